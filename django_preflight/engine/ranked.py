"""String enums ranked by the order their members are declared in."""

from __future__ import annotations

from enum import Enum


class RankedEnum(str, Enum):
    """A string enum whose members are declared from lowest to highest."""

    @property
    def rank(self) -> int:
        """The member's place in the declaration: 0 for the first."""
        return list(type(self)).index(self)
