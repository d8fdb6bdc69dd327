"""WeChat's error codes, named once: what may be tried again, and what never will succeed."""

from __future__ import annotations

BUSY = -1  # WeChat busy, or our request never got an answer: try again later
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # the access_token: refresh it once, retry once
RATE_ERRORS = frozenset({45009, 45011})  # quota or rate: back off, then retry
NO_GRANT = 43101  # a subscribe message without the resident's grant
NEVER_RETRY = frozenset({45015, 45047, NO_GRANT, 43004, 40003})  # window, count, grant, unfollowed, openid
RETRY_LATER = frozenset({BUSY}) | RATE_ERRORS  # a job's send: try again with backoff
RETRY_LATER_OR_TOKEN = RETRY_LATER | TOKEN_ERRORS  # the same, for a send whose token would not refresh
BAD_LOGIN_CODE = frozenset({40029, 40163, 40226})  # a mini-program login code that is invalid or used
