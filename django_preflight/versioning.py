"""The policy version: one database row that moves with every committed policy or origin change.

A change moves it inside the change's own transaction, so a rollback undoes both and a commit
makes both visible at once to every process reading the database, whatever cache the project
has. However many rows a transaction touches (a save, an admin action, an import of thousands
of origins), the version moves once and this process is told once, after commit.
"""

from __future__ import annotations

from django.db import IntegrityError, connections, transaction
from django.db.models import F

from .models import SharedState


class _AfterCommit:
    """This process's own notice of a committed change; one per transaction."""

    def __init__(self) -> None:
        self.delivered = False

    def __call__(self) -> None:
        from .store import store

        self.delivered = True
        store.mark_stale()


def note_change(using: str = "default") -> None:
    """Move the version within the current transaction, unless this transaction already did.

    Outside a transaction (autocommit) every change is its own transaction, so it moves the
    version at once. Inside one, the pending after-commit notice marks that the version already
    moved: a rollback (of the transaction or of the savepoint the move happened in) discards
    that notice together with the move, so the next change moves it again. (A notice already
    delivered, as tests deliver them inside a transaction that never commits, no longer counts.)
    """
    connection = connections[using]
    if connection.in_atomic_block and any(
        isinstance(entry[1], _AfterCommit) and not entry[1].delivered
        for entry in connection.run_on_commit
    ):
        return
    with transaction.atomic(using=using, savepoint=False):
        _bump(using)
        transaction.on_commit(_AfterCommit(), using=using)


def _bump(using: str) -> None:
    moved = SharedState.objects.using(using).filter(name=SharedState.POLICY_VERSION)
    if moved.update(number=F("number") + 1):
        return
    # The migration creates the row; a database set up without it (flushed, hand-made) gets it
    # here. Another transaction creating it at the same time is caught by the primary key.
    try:
        with transaction.atomic(using=using):
            SharedState.objects.using(using).create(name=SharedState.POLICY_VERSION, number=1)
    except IntegrityError:
        moved.update(number=F("number") + 1)


def read_version(using: str = "default") -> int:
    """The committed version: one primary-key lookup. 0 when no change was ever recorded."""
    number = (
        SharedState.objects.using(using)
        .filter(name=SharedState.POLICY_VERSION)
        .values_list("number", flat=True)
        .first()
    )
    return int(number or 0)
