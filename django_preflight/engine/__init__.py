"""The pure decision engine: plain values in, plain values out, no Django import."""

from .decision import Decision, Outcome, Reason, RequestFacts, decide
from .origins import Origin, OriginError, normalise_origin, parse_request_origin
from .policy import (
    CompiledPolicy,
    OriginKind,
    OriginSpec,
    PolicyError,
    PolicySet,
    PolicySpec,
    build_policy_set,
)

__all__ = [
    "CompiledPolicy",
    "Decision",
    "Origin",
    "OriginError",
    "OriginKind",
    "OriginSpec",
    "Outcome",
    "PolicyError",
    "PolicySet",
    "PolicySpec",
    "Reason",
    "RequestFacts",
    "build_policy_set",
    "decide",
    "normalise_origin",
    "parse_request_origin",
]
