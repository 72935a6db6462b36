"""When a failed transfer is tried again: curl's `--retry` rules as an immutable policy.

Theory of operation
-------------------
curl's tool retries a transfer that failed with a *transient* error (docs/cmdline-opts/
retry.md): a timeout, or an HTTP response 408, 429, 500, 502, 503, 504, 522 or 524. A batch
also retries the network failures that a retry of the same request usually cures: could not
resolve (6), could not connect (7), timed out (28), empty reply (52), send (55) and receive
(56) errors. The first retry waits `delay` seconds and each later one twice as long, up to
`max_delay` (curl: one second, doubling, at most ten minutes); a `Retry-After` response header
in seconds replaces the computed wait, as in curl. `max_time` bounds the time since the first
attempt beyond which no retry starts (`--retry-max-time`).

`delay_for` is pure: it returns the wait before the next attempt, or None for "record the
failure", and never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RETRY_HTTP_CODES", "TRANSIENT_CODES", "RetryPolicy", "parse_retry_after"]

# CURLcodes a new attempt may cure: 6 COULDNT_RESOLVE_HOST, 7 COULDNT_CONNECT,
# 28 OPERATION_TIMEDOUT, 52 GOT_NOTHING, 55 SEND_ERROR, 56 RECV_ERROR.
TRANSIENT_CODES = frozenset({6, 7, 28, 52, 55, 56})
# curl's --retry treats these HTTP responses as transient (docs/cmdline-opts/retry.md).
RETRY_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
E_HTTP_RETURNED_ERROR = 22


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how soon a transient failure is tried again (see module doc)."""

    retries: int = 3
    delay: float = 1.0
    max_delay: float = 600.0
    max_time: float | None = None
    codes: frozenset[int] = field(default=TRANSIENT_CODES)
    http_codes: frozenset[int] = field(default=RETRY_HTTP_CODES)

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, not {self.retries}")
        if self.delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays must be >= 0")
        if self.max_time is not None and self.max_time < 0:
            raise ValueError("max_time must be >= 0")

    def is_transient(self, code: int, response: int) -> bool:
        """True when a transfer that ended with CURLcode `code` and HTTP status `response`
        failed in a way a new attempt may cure."""
        if code in self.codes:
            return True
        # Without FAILONERROR the transfer "succeeds" (0) with the error status.
        return response in self.http_codes and code in (0, E_HTTP_RETURNED_ERROR)

    def delay_for(
        self,
        attempts: int,
        code: int,
        response: int,
        *,
        retry_after: float | None = None,
        elapsed: float = 0.0,
    ) -> float | None:
        """Seconds to wait before attempt `attempts + 1`, or None when the failure is final.

        `attempts` is how many attempts were made (1 after the first), `elapsed` the seconds
        since the first one started. A success (0 with a status below 400) is never retried.
        """
        if code == 0 and response < 400:
            return None
        if attempts > self.retries or not self.is_transient(code, response):
            return None
        wait = min(self.max_delay, self.delay * 2.0 ** (attempts - 1))
        if retry_after is not None:
            wait = min(self.max_delay, max(0.0, retry_after))
        if self.max_time is not None and elapsed + wait > self.max_time:
            return None
        return wait


def parse_retry_after(value: str) -> float | None:
    """The seconds of a `Retry-After: <seconds>` header value; None for anything else. The
    HTTP-date form, which curl also reads, is ignored here (the computed backoff applies) so
    that the decision never depends on the clocks of two machines."""
    text = value.strip()
    if not text.isdigit():
        return None
    return float(int(text))
