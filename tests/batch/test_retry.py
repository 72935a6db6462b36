"""curl's --retry rules: which failures are tried again, and how long each wait is."""

from __future__ import annotations

import pytest

from purecurl.batch.retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize("code", [6, 7, 28, 52, 55, 56])
def test_transient_curl_codes_are_retried(code: int) -> None:
    assert RetryPolicy(retries=1).delay_for(1, code, 0) == 1.0


@pytest.mark.parametrize("code", [1, 3, 22, 23, 35, 47, 60, 63])
def test_other_codes_are_final(code: int) -> None:
    assert RetryPolicy(retries=5).delay_for(1, code, 0) is None


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 522, 524])
def test_curls_transient_http_statuses_are_retried(status: int) -> None:
    policy = RetryPolicy(retries=1)
    assert policy.delay_for(1, 22, status) == 1.0  # with FAILONERROR
    assert policy.delay_for(1, 0, status) == 1.0  # without


@pytest.mark.parametrize("status", [400, 401, 403, 404, 501, 505])
def test_other_http_errors_are_final(status: int) -> None:
    assert RetryPolicy(retries=1).delay_for(1, 22, status) is None


def test_success_is_never_retried() -> None:
    assert RetryPolicy().delay_for(1, 0, 200) is None


def test_backoff_doubles_up_to_the_cap_and_stops_after_retries() -> None:
    policy = RetryPolicy(retries=4, delay=1.0, max_delay=5.0)
    assert [policy.delay_for(n, 7, 0) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, None]


def test_retry_after_replaces_the_backoff_within_the_cap() -> None:
    policy = RetryPolicy(retries=2, delay=1.0, max_delay=30.0)
    assert policy.delay_for(1, 22, 503, retry_after=7.0) == 7.0
    assert policy.delay_for(1, 22, 503, retry_after=3600.0) == 30.0


def test_max_time_bounds_the_retries() -> None:
    policy = RetryPolicy(retries=9, delay=2.0, max_time=5.0)
    assert policy.delay_for(1, 7, 0, elapsed=2.0) == 2.0
    assert policy.delay_for(2, 7, 0, elapsed=2.0) is None  # 2 + 4 > 5


def test_the_policy_is_immutable_and_checked() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.retries = 9  # type: ignore[misc]
    with pytest.raises(ValueError, match="retries must be >= 0"):
        RetryPolicy(retries=-1)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 0 ", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", None), ("-1", None)],
)
def test_retry_after_header(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
