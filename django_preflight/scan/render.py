"""The scan's results as text for people and as JSON for machines (schema in the docs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .findings import Finding, Observation, Severity
from .runner import UrlResult

SCHEMA = "django-preflight-scan/1"
SHOWN_HEADERS = ("access-control-", "vary", "location")
MAX_EVIDENCE_HEADERS = 64
MAX_EVIDENCE_VALUE = 1000
"""Evidence is kept in the admin's database: a hostile server cannot make it grow unbounded."""


def counts(results: Sequence[UrlResult]) -> dict[str, int]:
    """Findings per severity over every URL."""
    totals = {severity.value: 0 for severity in reversed(Severity)}
    for result in results:
        for finding in result.findings:
            totals[finding.severity.value] += 1
    return totals


def failing(results: Sequence[UrlResult], fail_on: Severity | None) -> bool:
    """True when a finding is at least as severe as ``fail_on``."""
    return fail_on is not None and any(
        f.severity.rank >= fail_on.rank for r in results for f in r.findings
    )


def to_json(results: Sequence[UrlResult], fail_on: Severity | None = None) -> dict[str, Any]:
    """The whole scan as one JSON-serialisable document."""
    return {
        "schema": SCHEMA,
        "fail_on": fail_on.value if fail_on else None,
        "failed": failing(results, fail_on),
        "summary": {
            **counts(results),
            "requests": sum(len(r.observations) for r in results),
        },
        "results": [result_json(result) for result in results],
    }


def result_json(result: UrlResult) -> dict[str, Any]:
    """One URL's part of the document; also what the admin keeps."""
    return {
        "url": result.url,
        "trusted_origins": list(result.plan.trusted),
        "credentials": result.credentials,
        "requests": len(result.observations),
        "max_requests": result.plan.max_requests,
        "complete": result.complete,
        "error": result.error,
        "notes": list(result.notes),
        "findings": [finding_json(finding) for finding in result.findings],
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding with its evidence."""
    evidence = finding.evidence
    attribution = finding.attribution
    return {
        "id": finding.id,
        "severity": finding.severity.value,
        "title": finding.check.title,
        "origin": finding.evidence.origin,
        "consequence": finding.consequence,
        "fix": finding.check.fix,
        "evidence": {
            "request": {
                "method": evidence.method,
                "url": evidence.url,
                "headers": _bounded(evidence.request_headers),
            },
            "response": {
                "status": evidence.response.status,
                "headers": _bounded(evidence.response.headers),
            },
        },
        "policy": None
        if attribution is None
        else {
            "id": attribution.policy_id,
            "name": attribution.policy_name,
            "entry": attribution.entry,
            "admin_url": attribution.admin_url,
        },
    }


def _bounded(headers: tuple[tuple[str, str], ...]) -> list[list[str]]:
    """The header lines as sent or received, values past the bound cut with '…'."""
    return [
        [name[:MAX_EVIDENCE_VALUE], _cut(value)] for name, value in headers[:MAX_EVIDENCE_HEADERS]
    ]


def _cut(value: str) -> str:
    return value if len(value) <= MAX_EVIDENCE_VALUE else value[: MAX_EVIDENCE_VALUE - 1] + "…"


def to_text(results: Sequence[UrlResult], fail_on: Severity | None = None) -> list[str]:
    """Lines for a terminal: each URL, its findings with evidence and fix, then a summary."""
    lines: list[str] = []
    for result in results:
        trusted = ", ".join(result.plan.trusted)
        lines.append(f"{result.url} ({len(result.observations)} requests; trusted: {trusted})")
        if result.error:
            lines.append(f"  ERROR   {result.error}")
        for finding in result.findings:
            lines.extend(_finding_lines(finding))
        if not result.findings and not result.error:
            lines.append("  No finding.")
        lines.extend(f"  Note:   {note}" for note in result.notes)
    totals = counts(results)
    summary = ", ".join(f"{count} {name}" for name, count in totals.items())
    verdict = ""
    if fail_on is not None and failing(results, fail_on):
        verdict = f" Failing at --fail-on {fail_on.value}."
    lines.append(f"Summary: {summary}.{verdict}")
    return lines


def _finding_lines(finding: Finding) -> list[str]:
    lines = [
        f"  {finding.severity.value.upper():<7} {finding.id}: {finding.check.title}.",
        f"          Request:  {_request(finding.evidence)}",
        f"          Response: {_response(finding.evidence)}",
        f"          Browser:  {finding.consequence}",
        f"          Fix:      {finding.check.fix}",
    ]
    if finding.attribution is not None:
        where = f" ({finding.attribution.admin_url})" if finding.attribution.admin_url else ""
        lines.append(
            f"          Policy:   '{finding.attribution.policy_name}', entry "
            f"{finding.attribution.entry}{where}"
        )
    return lines


def _request(observation: Observation) -> str:
    shown = "; ".join(
        f"{name}: {value}"
        for name, value in observation.request_headers
        if name == "Origin" or name.startswith("Access-Control-")
    )
    return f"{observation.method} {observation.url}  {shown}"


def _response(observation: Observation) -> str:
    shown = "; ".join(
        f"{name}: {value}"
        for name, value in observation.response.headers
        if name.lower().startswith(SHOWN_HEADERS)
    )
    return f"{observation.response.status}  {shown or '(no CORS header)'}"
