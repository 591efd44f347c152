"""The in-memory database of each stack, and our policy loaded as an operator's bulk load would.

The policy is saved through the package's own mapping, which moves the policy version as a
save would; the snapshot is then built once so that no measured request pays for it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command

from benchmarks import stacks, workload


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
    """One policy on the covered path with every origin entry of ``size``; returns its id.

    Saved unvalidated and in bulk, as an operator's bulk load would be; the origins are the
    benchmark's own and known to be valid.
    """
    from django_preflight.mapping import save_spec

    return save_spec(workload.policy_spec(size), validate=False).pk
