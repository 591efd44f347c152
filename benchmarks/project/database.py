"""The in-memory database of each stack, and our policy loaded as an operator's bulk load would.

``bulk_create`` moves the policy version as a save would; the snapshot is then built once so
that no measured request pays for it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command

from benchmarks import stacks, workload

BATCH_SIZE = 5_000


def prepare(size: workload.Size) -> None:
    """Create the schema in every stack; load the policy and build the snapshot in ours.

    Every stack migrates, so every stack carries the same open database connection, whose
    bookkeeping Django does at the start and end of each request; only ours reads from it.
    """
    call_command("migrate", verbosity=0, interactive=False)
    if getattr(settings, "BENCH_STACK", None) != stacks.OURS:
        return
    load_policy(size)
    from django_preflight.store import store

    store.current()


def load_policy(size: workload.Size) -> int:
    """One policy on the covered path with every origin entry of ``size``; returns its id."""
    from django_preflight.models import AllowedOrigin, CorsPolicy

    policy = CorsPolicy.objects.create(
        name="benchmarks",
        path_prefix=workload.PATH_PREFIX,
        allow_credentials=workload.CREDENTIALS,
        allowed_methods=list(workload.METHODS),
        allowed_headers=list(workload.HEADERS),
        exposed_headers=list(workload.EXPOSED),
        max_age=workload.MAX_AGE,
    )
    entries = [
        *((AllowedOrigin.Kind.EXACT, v) for v in workload.exact_origins(size.exact)),
        *((AllowedOrigin.Kind.SUBDOMAIN, v) for v in workload.wildcard_patterns(size.wildcards)),
        *((AllowedOrigin.Kind.REGEX, v) for v in workload.regex_patterns(size.regexes)),
    ]
    AllowedOrigin.objects.bulk_create(
        (AllowedOrigin(policy=policy, kind=kind, value=value) for kind, value in entries),
        batch_size=BATCH_SIZE,
    )
    return policy.pk
