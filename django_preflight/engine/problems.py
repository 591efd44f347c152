"""What is wrong with a policy, as values: the field, a stable code and a sentence for a person.

Codes never change once released, so callers (the admin, the importers, advice) key on them
rather than on the wording of the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Code(str, Enum):
    """One member per rule the compiler enforces."""

    PATH_PREFIX_NOT_ABSOLUTE = "path_prefix.not_absolute"
    PATH_PREFIX_TOO_LONG = "path_prefix.too_long"
    PATH_PREFIX_NOT_PLAIN = "path_prefix.not_plain"
    PATH_PREFIX_BAD_ENCODING = "path_prefix.bad_encoding"
    PATH_PREFIX_DOT_SEGMENT = "path_prefix.dot_segment"
    PATH_PREFIX_NOT_DECODED = "path_prefix.not_decoded"
    METHODS_NOT_A_LIST = "allowed_methods.not_a_list"
    METHODS_EMPTY = "allowed_methods.empty"
    METHOD_INVALID = "allowed_methods.invalid"
    METHOD_STAR_WITH_CREDENTIALS = "allowed_methods.star_with_credentials"
    HEADERS_NOT_A_LIST = "allowed_headers.not_a_list"
    HEADER_INVALID = "allowed_headers.invalid"
    HEADER_STAR_WITH_CREDENTIALS = "allowed_headers.star_with_credentials"
    EXPOSED_HEADERS_NOT_A_LIST = "exposed_headers.not_a_list"
    EXPOSED_HEADER_INVALID = "exposed_headers.invalid"
    EXPOSED_HEADER_STAR_WITH_CREDENTIALS = "exposed_headers.star_with_credentials"
    MAX_AGE_OUT_OF_RANGE = "max_age.out_of_range"
    ORIGIN_EMPTY = "origin.empty"
    ORIGIN_TOO_LONG = "origin.too_long"
    ORIGIN_NULL_AS_EXACT = "origin.null_as_exact"
    ORIGIN_CONTROL_CHARACTER = "origin.control_character"
    ORIGIN_NO_SCHEME = "origin.no_scheme"
    ORIGIN_BAD_SCHEME = "origin.bad_scheme"
    ORIGIN_NOT_ONLY_ORIGIN = "origin.not_only_origin"
    ORIGIN_BAD_PORT = "origin.bad_port"
    ORIGIN_BAD_HOST = "origin.bad_host"
    ORIGIN_DUPLICATE = "origin.duplicate"
    PUBLIC_SUFFIX_OPT_IN_NOT_SUBDOMAIN = "origin.public_suffix_opt_in_not_subdomain"
    SUBDOMAIN_SHAPE = "subdomain.shape"
    SUBDOMAIN_NOT_REGISTRABLE = "subdomain.not_registrable"
    SUBDOMAIN_PUBLIC_SUFFIX = "subdomain.public_suffix"
    SUBDOMAIN_PUBLIC_SUFFIX_WITH_CREDENTIALS = "subdomain.public_suffix_with_credentials"
    REGEX_EMPTY = "regex.empty"
    REGEX_TOO_LONG = "regex.too_long"
    REGEX_INVALID = "regex.invalid"
    REGEX_SURROUNDING_SPACES = "regex.surrounding_spaces"
    REGEX_NOT_LINEAR = "regex.not_linear"
    REGEX_LOOKALIKE_WITH_CREDENTIALS = "regex.lookalike_with_credentials"
    REGEX_ANY_SITE_WITH_CREDENTIALS = "regex.any_site_with_credentials"
    ANY_WITH_CREDENTIALS = "any.with_credentials"


STAR_WITH_CREDENTIALS_CODES = frozenset(
    {
        Code.METHOD_STAR_WITH_CREDENTIALS,
        Code.HEADER_STAR_WITH_CREDENTIALS,
        Code.EXPOSED_HEADER_STAR_WITH_CREDENTIALS,
    }
)
"""A '*' in one of a credentialed policy's name lists, which browsers read as a literal name."""

CREDENTIAL_CODES = STAR_WITH_CREDENTIALS_CODES | frozenset(
    {
        Code.REGEX_ANY_SITE_WITH_CREDENTIALS,
        Code.REGEX_LOOKALIKE_WITH_CREDENTIALS,
        Code.SUBDOMAIN_PUBLIC_SUFFIX_WITH_CREDENTIALS,
        Code.ANY_WITH_CREDENTIALS,
    }
)
"""Problems that exist only because the policy allows credentials."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a policy cannot be compiled.

    ``field`` names a ``PolicySpec`` field; for ``origins``, ``index`` is the entry's position.
    """

    field: str
    code: Code
    message: str
    index: int | None = None
