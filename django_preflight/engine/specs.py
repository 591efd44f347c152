"""Policies as configured: plain values, the engine's input, whatever stores them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class OriginKind(str, Enum):
    """How an allowed-origin entry matches the request's ``Origin``."""

    EXACT = "exact"
    SUBDOMAIN = "subdomain"
    REGEX = "regex"
    ANY = "any"
    NULL = "null"


@dataclass(frozen=True, slots=True)
class OriginSpec:
    """One allowed-origin entry as configured."""

    kind: OriginKind
    value: str = ""


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """One policy as configured."""

    id: int
    name: str
    path_prefix: str = "/"
    allow_credentials: bool = False
    allowed_methods: tuple[str, ...] = ("GET", "HEAD", "POST")
    allowed_headers: tuple[str, ...] = ()
    exposed_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_private_network: bool = False
    origins: tuple[OriginSpec, ...] = ()
    report_only: bool = False
    enforce_on_server: bool = False
