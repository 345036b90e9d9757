"""The retry policy's building blocks: Retry-After parsing, which statuses are resent, unknown outcomes."""

from __future__ import annotations

import random

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from toolkit.graph import RetryPolicy, parse_retry_after
from toolkit.graph.retry import is_idempotent, sent_before_failure


@pytest.mark.parametrize("value,expected", [
    ("2.128", 2.128), ("0", 0.0), (" 7 ", 7.0), ("-3", 0.0), ("", None), (None, None), ("soon", None),
    ("nan", None), ("Wed, 21 Oct 2015 07:28:05 GMT", 5.0),
])
def test_parse_retry_after(value, expected):
    now = 1445412480.0  # 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(value, now=now) == (pytest.approx(expected) if expected is not None else None)


def test_http_date_in_the_past_means_no_wait():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0 + 60) == 0.0


@pytest.mark.parametrize("status,resendable,expected", [
    (429, False, True), (503, False, True), (504, False, False), (504, True, True), (500, True, True),
    (502, False, False), (404, True, False), (400, True, False), (401, True, False), (409, True, False),
])
def test_which_statuses_are_resent(status, resendable, expected):
    assert RetryPolicy().status_is_retryable(status, resendable=resendable) is expected


def test_idempotent_methods():
    assert [m for m in ("GET", "put", "DELETE", "POST", "PATCH", "HEAD") if is_idempotent(m)] == \
        ["GET", "put", "DELETE", "HEAD"]


def test_connection_failures_before_sending_are_told_apart_from_unknown_outcomes():
    refused = requests.exceptions.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))
    dns = requests.exceptions.ConnectionError(MaxRetryError(None, "/", NameResolutionError("h", None, "no")))
    reset = requests.exceptions.ConnectionError(ProtocolError("aborted", ConnectionResetError()))
    assert not sent_before_failure(refused) and not sent_before_failure(dns)
    assert not sent_before_failure(requests.exceptions.ConnectTimeout())
    assert sent_before_failure(reset)
    assert sent_before_failure(requests.exceptions.ReadTimeout())
    assert sent_before_failure(requests.exceptions.ChunkedEncodingError())


def test_budget_stops_on_attempts_elapsed_time_and_huge_retry_after():
    policy = RetryPolicy(max_attempts=4, max_elapsed=10, max_retry_after=30)
    assert policy.may_continue(3, 0, 1) and not policy.may_continue(4, 0, 1)
    assert not policy.may_continue(1, 9.5, 1)
    assert not policy.may_continue(1, 0, 31)


def test_backoff_bound_grows_and_is_capped():
    policy = RetryPolicy(base=0.5, factor=3, cap=5, rng=random.Random(1))
    draws = [[policy.backoff(n) for _ in range(200)] for n in (1, 2, 3, 4)]
    for d, bound in zip(draws, (0.5, 1.5, 4.5, 5.0)):
        assert 0 <= min(d) < bound * 0.1 and bound * 0.9 < max(d) <= bound


def test_invalid_policy_is_refused():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
