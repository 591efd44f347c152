"""A process that edits policies through the ORM, as a management command or a shell would.

Run with ``python -m tests.services.editor``; reads one JSON command per line on stdin and
answers one JSON line on stdout, with the commit time on the machine's monotonic clock.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    """Apply each command in its own transaction and say when it committed."""
    import django

    django.setup()
    from django.db import transaction

    from django_preflight.models import AllowedOrigin, CorsPolicy

    for line in sys.stdin:
        command = json.loads(line)
        with transaction.atomic():
            policy = CorsPolicy.objects.get(name=command["policy"])
            origin = AllowedOrigin(policy=policy, value=command["origin"])
            origin.full_clean()
            origin.save()
        print(json.dumps({"committed_at": time.monotonic()}), flush=True)


if __name__ == "__main__":
    main()
