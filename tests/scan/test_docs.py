"""The Scanning page documents every finding the scanner can report, and the bound it keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_preflight.scan.findings import CHECKS, Check
from django_preflight.scan.plan import MAX_REQUESTS_PER_URL

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_every_finding_id_has_a_row(check: Check) -> None:
    assert f"| `{check.id}` |" in (DOCS / "scanning.md").read_text()


def test_the_documented_bound_is_the_real_one() -> None:
    for page in ("scanning.md", "commands.md"):
        assert f"at most {MAX_REQUESTS_PER_URL} requests" in " ".join(
            (DOCS / page).read_text().split()
        ).replace("**", "")
