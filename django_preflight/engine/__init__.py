"""The pure decision engine: plain values in, plain values out, no Django import."""

from .compiler import CompiledPolicy, Invalid, compile_origin, compile_policy, origin_warning
from .decision import Decision, Outcome, Reason, RequestFacts, decide
from .index import Match
from .origins import Origin, OriginError, normalise_origin, parse_request_origin
from .policy import PolicySet, Rejected, build_policy_set
from .problems import Code, Problem
from .specs import OriginKind, OriginSpec, PolicySpec

__all__ = [
    "Code",
    "CompiledPolicy",
    "Decision",
    "Invalid",
    "Match",
    "Origin",
    "OriginError",
    "OriginKind",
    "OriginSpec",
    "Outcome",
    "PolicySet",
    "PolicySpec",
    "Problem",
    "Reason",
    "Rejected",
    "RequestFacts",
    "build_policy_set",
    "compile_origin",
    "compile_policy",
    "decide",
    "normalise_origin",
    "origin_warning",
    "parse_request_origin",
]
