"""``manage.py preflight scan``: text and JSON reports, exit statuses, the bound in --help."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_preflight.engine.browser import RawResponse
from django_preflight.scan.findings import CHECKS, Observation, judge
from django_preflight.scan.origins import HostileOrigin, Kind
from django_preflight.scan.plan import MAX_REQUESTS_PER_URL
from django_preflight.scan.render import MAX_EVIDENCE_HEADERS, MAX_EVIDENCE_VALUE, finding_json

from .servers import TRUSTED, serve


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[Any]]]:
    with serve() as running:
        yield running


def scan(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("preflight", "scan", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_text_report_names_each_finding_with_evidence_and_fix(
    server: tuple[str, list[Any]],
) -> None:
    base, _ = server
    # Typed as a person would: normalised to what browsers send.
    status, out = scan(
        f"{base}/null-trusting/", f"{base}/correct/", "--trusted-origin", "HTTPS://App.example.com/"
    )
    assert status == 0
    assert f"{base}/null-trusting/ (" in out
    assert "requests; trusted: https://app.example.com)" in out
    assert "Note:" not in out
    assert "  HIGH    trusts-null-origin: The 'null' origin is allowed." in out
    assert f"Request:  GET {base}/null-trusting/  Origin: null\n" in out
    assert "Response: 200  Vary: Origin; Access-Control-Allow-Origin: null; " in out
    assert "Fix:      Remove 'null' from the allowed origins" in out
    assert f"{base}/correct/ (" in out
    assert "  No finding." in out
    assert out.rstrip().endswith("Summary: 1 high, 0 medium, 0 low.")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "fail_on", "expected"),
    [
        ("no-vary", "low", 1),
        ("no-vary", "medium", 0),
        ("wildcard-credentials", "medium", 1),
        ("wildcard-credentials", "high", 0),
        ("reflect-anything", "high", 1),
        ("correct", "low", 0),
    ],
)
def test_fail_on_sets_the_exit_status(
    server: tuple[str, list[Any]], path: str, fail_on: str, expected: int
) -> None:
    base, _ = server
    status, out = scan(f"{base}/{path}/", "--trusted-origin", TRUSTED, "--fail-on", fail_on)
    assert status == expected
    assert ("Failing at --fail-on" in out) is bool(expected)


@pytest.mark.django_db
def test_json_report_follows_the_documented_schema(server: tuple[str, list[Any]]) -> None:
    base, _ = server
    status, out = scan(
        f"{base}/http-trusting/",
        "--trusted-origin",
        TRUSTED,
        "--credentials",
        "--format",
        "json",
        "--fail-on",
        "high",
    )
    assert status == 1
    document = json.loads(out)
    assert set(document) == {"schema", "fail_on", "failed", "summary", "results"}
    assert (document["schema"], document["fail_on"], document["failed"]) == (
        "django-preflight-scan/1",
        "high",
        True,
    )
    (result,) = document["results"]
    assert document["summary"] == {
        "high": 1,
        "medium": 0,
        "low": 0,
        "requests": result["requests"],
    }
    assert result["trusted_origins"] == [TRUSTED]
    assert result["credentials"] is True
    assert result["complete"] is True
    assert result["error"] is None
    assert result["max_requests"] <= MAX_REQUESTS_PER_URL
    (finding,) = result["findings"]
    assert set(finding) == {
        "id",
        "severity",
        "title",
        "origin",
        "consequence",
        "fix",
        "evidence",
        "policy",
    }
    assert (finding["id"], finding["severity"], finding["origin"]) == (
        "trusts-http-origin",
        "high",
        "http://app.example.com",
    )
    assert finding["evidence"]["request"]["method"] == "GET"
    assert ["Origin", "http://app.example.com"] in finding["evidence"]["request"]["headers"]
    assert finding["evidence"]["response"]["status"] == 200
    assert ["Access-Control-Allow-Credentials", "true"] in finding["evidence"]["response"][
        "headers"
    ]
    assert finding["policy"] is None


def test_an_unreachable_url_exits_with_2() -> None:
    with serve() as (closed, _):
        pass
    status, out = scan(f"{closed}/correct/", "--timeout", "2")
    assert status == 2
    assert f"ERROR   Could not scan {closed}/correct/" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/"], "is not an http or https URL"),
        (
            ["http://127.0.0.1:9/", "--trusted-origin", "https://app.example.com/x"],
            "--trusted-origin: An origin is only scheme, host and port; remove a path",
        ),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("preflight", "scan", *args)


def test_help_states_the_bound_per_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("preflight", "scan", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"at most {MAX_REQUESTS_PER_URL} requests" in help_text
    assert "GET and OPTIONS preflights only, no bodies" in help_text


def test_the_checks_have_unique_ids() -> None:
    assert len({check.id for check in CHECKS}) == len(CHECKS) == 14


def test_evidence_kept_is_bounded() -> None:
    headers = (("Access-Control-Allow-Origin", "null"), *[("X-Padding", "p" * 5000)] * 200)
    observation = Observation(
        "https://api.example.com/",
        "GET",
        "null",
        (("Origin", "null"),),
        RawResponse(200, headers),
        HostileOrigin("null", Kind.NULL),
    )
    found, _ = judge([observation], credentials=False)
    assert [f.id for f in found] == ["trusts-null-origin", "missing-vary-origin"]
    kept = finding_json(found[0])["evidence"]["response"]["headers"]
    assert len(kept) == MAX_EVIDENCE_HEADERS
    assert kept[0] == ["Access-Control-Allow-Origin", "null"]
    assert len(kept[1][1]) == MAX_EVIDENCE_VALUE
    assert kept[1][1].endswith("…")


def test_one_finding_per_check_keeps_the_most_severe_evidence() -> None:
    def reflected(origin: str, base: str, credentials: bool) -> Observation:
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return Observation(
            "https://api.example.com/",
            "GET",
            origin,
            (("Origin", origin),),
            RawResponse(200, tuple(headers)),
            HostileOrigin(origin, Kind.HTTP, base),
        )

    found, _ = judge(
        [
            reflected("http://a.example.com", "https://a.example.com", credentials=False),
            reflected("http://b.example.com", "https://b.example.com", credentials=True),
        ],
        credentials=False,
    )
    assert [(f.id, f.severity.value, f.evidence.origin) for f in found] == [
        ("trusts-http-origin", "high", "http://b.example.com")
    ]
