"""Every limit and cap the package enforces, in one place.

Column lengths, token limits and the browsers' Max-Age caps are read by the engine, the models,
the admin and the importers; a number changed here changes everywhere at once.
"""

from __future__ import annotations

# Policy and origin columns.
POLICY_NAME_LENGTH = 100
PATH_PREFIX_LENGTH = 200
ORIGIN_VALUE_LENGTH = 500
ORIGIN_NOTE_LENGTH = 200

# What a request, a typed call or a configured pattern may be.
MAX_URL_LENGTH = 2000
MAX_ORIGIN_LENGTH = 300
MAX_REGEX_LENGTH = ORIGIN_VALUE_LENGTH
MAX_TOKEN_LENGTH = 64
MAX_REQUESTED_HEADERS = 64

# Audit columns.
AUDIT_FINGERPRINT_LENGTH = 64
AUDIT_ORIGIN_LENGTH = MAX_ORIGIN_LENGTH
AUDIT_PATH_LENGTH = 500
AUDIT_METHOD_LENGTH = MAX_TOKEN_LENGTH
AUDIT_HEADERS_LENGTH = 500
AUDIT_DETAIL_LENGTH = 100

# Max-Age: each engine caps how long it caches a preflight's answer; a policy may say up to the
# highest cap, Firefox's day. The admin and the importers warn above Chromium's, which most users
# have.
MAX_AGE_CHROMIUM_CAP = 7200
MAX_AGE_FIREFOX_CAP = 86400
MAX_AGE_WEBKIT_CAP = 600
MAX_AGE_MISSING = 5
"""What browsers cache a preflight's answer for when it sends no Max-Age."""
MAX_AGE_LIMIT = MAX_AGE_FIREFOX_CAP

# Redirects a browser follows for one fetch() before it gives up (the Fetch standard's 20).
MAX_REDIRECTS = 20
