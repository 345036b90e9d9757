"""GraphClient against a scripted transport: paging, headers, retries, error mapping."""

from __future__ import annotations

import logging
import os
import random
import sys
import types
import uuid
from email.utils import formatdate

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

sys.path.insert(0, os.path.dirname(__file__))
from graph_support import BASE, ROOT, FakeClock, Tokens, graph_error_body, make_client, reply  # noqa: E402

from toolkit.errors import (GraphAuthorizationError, GraphBadRequest, GraphError, GraphNotFound,  # noqa: E402
                            GraphServerError, GraphThrottled, InputError, TransportError)
from toolkit.graph import GraphClient  # noqa: E402


def reset_error() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))


def refused_error() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        MaxRetryError(None, "/v1.0/users", NewConnectionError(None, "Connection refused")))  # type: ignore[arg-type]


class MaxRandom(random.Random):
    """uniform(a, b) -> b, so the backoff bound itself is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


# --- paging ----------------------------------------------------------------------------------------------

def test_paging_follows_three_next_links_verbatim_and_stops_without_one():
    link2 = f"{ROOT}/users?$select=id,displayName&$top=2&$skiptoken=RFNwdAoAAQ%2BAAA%3D%3D"
    link3 = f"{ROOT}/users?$select=id,displayName&$top=2&$skiptoken=X'Y(z)~-_."
    client, adapter, _ = make_client([
        reply(200, {"value": [{"id": "1"}, {"id": "2"}], "@odata.nextLink": link2}),
        reply(200, {"value": [{"id": "3"}, {"id": "4"}], "@odata.nextLink": link3}),
        reply(200, {"value": [{"id": "5"}]}),
    ])
    pages = list(client.iter_pages("/users", params={"$select": "id,displayName", "$top": 2}))
    assert [[u["id"] for u in page] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert [r.url for r in adapter.requests] == [f"{ROOT}/users?$select=id,displayName&$top=2", link2, link3]


def test_iter_items_flattens_pages():
    client, _, _ = make_client([
        reply(200, {"value": [{"id": "a"}], "@odata.nextLink": f"{ROOT}/groups?$skiptoken=1"}),
        reply(200, {"value": [{"id": "b"}, {"id": "c"}]}),
    ])
    assert [g["id"] for g in client.iter_items("groups")] == ["a", "b", "c"]


def test_delta_returns_items_and_the_delta_link():
    delta_link = f"{ROOT}/users/delta?$deltatoken=abc"
    client, adapter, _ = make_client([
        reply(200, {"value": [{"id": "1"}], "@odata.nextLink": f"{ROOT}/users/delta?$skiptoken=s1"}),
        reply(200, {"value": [{"id": "2", "@removed": {"reason": "changed"}}], "@odata.deltaLink": delta_link}),
        reply(200, {"value": [{"id": "3"}], "@odata.deltaLink": f"{ROOT}/users/delta?$deltatoken=def"}),
    ])
    result = client.iter_delta("/users/delta", params={"$select": "id,userPrincipalName"})
    assert result.delta_link is None
    assert [u["id"] for u in result] == ["1", "2"]
    assert result.delta_link == delta_link and result.pages == 2
    # The next run starts from the stored link, used as is.
    later = client.iter_delta(result.delta_link)
    assert [u["id"] for u in later] == ["3"]
    assert adapter.requests[-1].url == delta_link
    with pytest.raises(RuntimeError):
        list(later)


def test_next_link_to_another_host_is_refused_before_sending_the_token():
    client, adapter, _ = make_client([
        reply(200, {"value": [], "@odata.nextLink": "https://evil.example/v1.0/users?$skiptoken=x"}),
    ])
    with pytest.raises(TransportError, match="evil.example"):
        list(client.iter_pages("/users"))
    assert len(adapter.requests) == 1


# --- request shape ---------------------------------------------------------------------------------------

def test_every_request_gets_a_fresh_token_and_client_request_id():
    tokens = Tokens()
    client, adapter, _ = make_client([reply(200, {"value": []}), reply(200, {"id": "x"})], token_provider=tokens)
    client.get("/users")
    client.get("users/x")
    first, second = adapter.requests
    assert first.headers["Authorization"] == "Bearer token-1"
    assert second.headers["Authorization"] == "Bearer token-2"
    ids = [r.headers["client-request-id"] for r in adapter.requests]
    assert ids[0] != ids[1] and all(uuid.UUID(i) for i in ids)
    assert first.headers["return-client-request-id"] == "true"
    assert second.url == f"{ROOT}/users/x"


def test_a_plain_callable_works_as_token_provider():
    client, adapter, _ = make_client([reply(200, {})], token_provider=lambda: "abc")
    client.get("/organization")
    assert adapter.requests[0].headers["Authorization"] == "Bearer abc"


def test_query_parameters_keep_dollar_and_encode_spaces_as_percent_20():
    client, adapter, _ = make_client([reply(200, {"value": []})])
    client.get("/users", params={"$filter": "userType eq 'Member' and accountEnabled eq true",
                                 "$select": ["id", "mail"], "$count": True})
    sent = adapter.requests[0]
    assert sent.url == (f"{ROOT}/users?$filter=userType%20eq%20'Member'%20and%20accountEnabled%20eq%20true"
                        "&$select=id,mail&$count=true")
    assert sent.headers["ConsistencyLevel"] == "eventual"


def test_plain_queries_do_not_send_consistency_level():
    client, adapter, _ = make_client([reply(200, {"value": []})])
    client.get("/users", params={"$select": "id"})
    assert "ConsistencyLevel" not in adapter.requests[0].headers


def test_count_uses_the_count_segment_with_consistency_level():
    client, adapter, _ = make_client([reply(200, "893", Content_Type="text/plain")])
    assert client.count("/users", filter="userType eq 'Guest'") == 893
    sent = adapter.requests[0]
    assert sent.url == f"{ROOT}/users/$count?$filter=userType%20eq%20'Guest'"
    assert sent.headers["ConsistencyLevel"] == "eventual"


@pytest.mark.parametrize("top", [0, 1000, "abc", -5])
def test_top_outside_1_to_999_on_users_is_refused_naming_the_value(top):
    client, adapter, _ = make_client([])
    with pytest.raises(InputError) as info:
        client.get("/users", params={"$top": top})
    assert repr(str(top)) in str(info.value) and "1 to 999" in str(info.value)
    assert info.value.field == "$top"
    assert adapter.requests == []


def test_top_999_on_users_and_large_top_elsewhere_are_sent():
    client, adapter, _ = make_client([reply(200, {"value": []}), reply(200, {"value": []})])
    client.get("/users", params={"$top": 999})
    client.get("/auditLogs/directoryAudits", params={"$top": 1000})
    assert len(adapter.requests) == 2


# --- retries ---------------------------------------------------------------------------------------------

def test_429_with_fractional_retry_after_waits_exactly_that_long():
    client, adapter, clock = make_client([
        reply(429, graph_error_body("TooManyRequests", "Too many requests"), Retry_After="2.128"),
        reply(200, {"id": "u1"}),
    ])
    assert client.get("/users/u1") == {"id": "u1"}
    assert clock.sleeps == [2.128]
    assert len(adapter.requests) == 2
    assert adapter.requests[0].headers["client-request-id"] != adapter.requests[1].headers["client-request-id"]
    stats = client.stats.to_dict()
    assert stats["retries"] == 1 and stats["throttled"] == 1 and stats["by_status"] == {"200": 1, "429": 1}


def test_429_with_http_date_retry_after_waits_until_that_date():
    clock = FakeClock()
    when = formatdate(clock.wall() + 5, usegmt=True)
    client, _, clock = make_client([reply(429, {}, Retry_After=when), reply(200, {})], clock=clock)
    client.get("/users")
    assert clock.sleeps == [pytest.approx(5.0, abs=1.0)]


def test_429_without_retry_after_backs_off_exponentially_up_to_the_cap():
    throttled = [reply(429, graph_error_body("TooManyRequests", "slow down")) for _ in range(6)]
    client, _, clock = make_client(throttled + [reply(200, {})], rng=MaxRandom(), max_attempts=7, base=1.0,
                                   factor=2.0, cap=10.0)
    client.get("/users")
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_backoff_is_jittered_below_its_bound():
    throttled = [reply(429, {}) for _ in range(5)]
    client, _, clock = make_client(throttled + [reply(200, {})], rng=random.Random(7), max_attempts=6,
                                   base=1.0, factor=2.0, cap=60.0)
    client.get("/users")
    bounds = [1.0, 2.0, 4.0, 8.0, 16.0]
    assert all(0 <= s <= b for s, b in zip(clock.sleeps, bounds))
    assert len(set(clock.sleeps)) == 5 and any(s < b * 0.9 for s, b in zip(clock.sleeps, bounds))


def test_503_storm_then_success_on_a_post():
    storm = [reply(503, graph_error_body("serviceNotAvailable", "busy"), Retry_After="1") for _ in range(4)]
    client, adapter, clock = make_client(storm + [reply(201, {"id": "new"})])
    assert client.post("/users", json={"displayName": "A"}) == {"id": "new"}
    assert clock.sleeps == [1.0] * 4 and len(adapter.requests) == 5


def test_throttling_that_outlives_the_budget_raises_graph_throttled_with_request_id():
    answers = [reply(429, graph_error_body("TooManyRequests", "Too many requests"), Retry_After="1",
                     **{"request-id": f"rid-{i}"}) for i in range(3)]
    client, adapter, _ = make_client(answers, max_attempts=3)
    with pytest.raises(GraphThrottled) as info:
        client.get("/users")
    err = info.value
    assert len(adapter.requests) == 3
    assert "rid-2" in str(err) and err.request_id == "rid-2" and err.code == "TooManyRequests"
    assert err.retry_after == 1.0 and err.status == 429 and "GET" in str(err)
    assert isinstance(err.__cause__, requests.HTTPError)


def test_retry_after_longer_than_the_maximum_is_raised_at_once():
    client, adapter, clock = make_client([reply(429, {}, Retry_After="3600")], max_retry_after=300)
    with pytest.raises(GraphThrottled) as info:
        client.get("/users")
    assert info.value.retry_after == 3600 and clock.sleeps == [] and len(adapter.requests) == 1


def test_connection_reset_on_get_is_retried():
    client, adapter, clock = make_client([reset_error(), reply(200, {"value": [{"id": "1"}]})], rng=MaxRandom())
    assert client.get("/users")["value"] == [{"id": "1"}]
    assert len(adapter.requests) == 2 and clock.sleeps == [1.0]


def test_connection_reset_on_post_is_not_resent_by_default():
    client, adapter, clock = make_client([reset_error(), reply(201, {"id": "dup"})])
    with pytest.raises(TransportError) as info:
        client.post("/users", json={"displayName": "A"})
    assert "outcome is unknown" in str(info.value) and "not resent" in str(info.value)
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert len(adapter.requests) == 1 and clock.sleeps == []


def test_connection_reset_on_post_is_resent_when_the_caller_says_it_is_safe():
    client, adapter, _ = make_client([reset_error(), reply(201, {"id": "x"})])
    assert client.post("/users", json={}, retry_unsafe=True) == {"id": "x"}
    assert len(adapter.requests) == 2


def test_read_timeout_on_patch_is_not_resent():
    client, adapter, _ = make_client([requests.exceptions.ReadTimeout("read timed out")])
    with pytest.raises(TransportError, match="outcome is unknown"):
        client.patch("/users/u1", json={"jobTitle": "x"})
    assert len(adapter.requests) == 1


def test_connection_refused_before_sending_is_retried_even_for_post():
    client, adapter, _ = make_client([refused_error(), reply(201, {"id": "x"})])
    assert client.post("/users", json={}) == {"id": "x"}
    assert len(adapter.requests) == 2


def test_connection_failures_after_the_budget_raise_transport_error():
    client, adapter, _ = make_client([reset_error() for _ in range(3)], max_attempts=3)
    with pytest.raises(TransportError, match="after 3 attempts"):
        client.get("/users")
    assert client.stats.transport_errors == 3


def test_500_is_retried_for_get_but_not_for_post():
    client, adapter, _ = make_client([reply(500, {}), reply(200, {"value": []})])
    client.get("/users")
    assert len(adapter.requests) == 2
    client, adapter, _ = make_client([reply(500, graph_error_body("generalException", "boom"))])
    with pytest.raises(GraphServerError, match="generalException"):
        client.post("/users", json={})
    assert len(adapter.requests) == 1


def test_ssl_error_names_the_ca_bundle():
    client, _, _ = make_client([requests.exceptions.SSLError("certificate verify failed")])
    with pytest.raises(TransportError) as info:
        client.get("/users")
    assert "REQUESTS_CA_BUNDLE" in str(info.value) and "certificate verify failed" in str(info.value)
    assert isinstance(info.value.__cause__, requests.exceptions.SSLError)


def test_404_after_a_write_is_retried_only_when_asked():
    client, adapter, clock = make_client([reply(404, graph_error_body("Request_ResourceNotFound", "gone")),
                                          reply(404, {}), reply(200, {"id": "u1"})], rng=MaxRandom())
    assert client.get("/users/u1", retry_not_found=10) == {"id": "u1"}
    assert clock.sleeps == [1.0, 2.0]
    client, adapter, _ = make_client([reply(404, graph_error_body("Request_ResourceNotFound", "nope"))])
    with pytest.raises(GraphNotFound, match="Request_ResourceNotFound: nope"):
        client.get("/users/u1")
    assert len(adapter.requests) == 1


def test_404_retry_stops_at_the_budget():
    client, adapter, clock = make_client([reply(404, {}) for _ in range(10)], rng=MaxRandom())
    with pytest.raises(GraphNotFound):
        client.get("/users/u1", retry_not_found=5)
    assert sum(clock.sleeps) <= 5 and len(adapter.requests) == 3  # waits 1 + 2, the next 4 would pass 5 s


# --- error mapping ---------------------------------------------------------------------------------------

def test_graph_error_body_and_headers_make_the_message():
    body = graph_error_body("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    client, _, _ = make_client([reply(403, body, **{"request-id": "rid-403", "client-request-id": "cri-403"})])
    with pytest.raises(GraphAuthorizationError) as info:
        client.get("/users?$select=id")
    err = info.value
    assert err.code == "Authorization_RequestDenied" and err.request_id == "rid-403"
    assert err.client_request_id == "cri-403"
    assert str(err).startswith(f"GET {ROOT}/users?$select=id -> 403 Authorization_RequestDenied")
    assert "admin consent" in str(err)


def test_request_id_falls_back_to_the_inner_error():
    client, _, _ = make_client([reply(400, graph_error_body("Request_BadRequest", "bad", request_id="inner-1"))])
    with pytest.raises(GraphBadRequest) as info:
        client.get("/users")
    assert info.value.request_id == "inner-1"


def test_html_error_page_from_a_proxy_becomes_a_clear_error():
    page = ("<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>"
            "<body><h1>Bad Gateway</h1><p>The proxy got an invalid answer &amp; gave up.</p>"
            + "<p>" + "x" * 500 + "</p></body></html>")
    client, _, _ = make_client([reply(502, page, Content_Type="text/html")])
    with pytest.raises(GraphServerError) as info:
        client.post("/users", json={})
    err = info.value
    assert err.code is None
    assert err.graph_message.startswith("502 Bad Gateway Bad Gateway The proxy got an invalid answer & gave up.")
    assert "<" not in err.graph_message and "color" not in err.graph_message
    assert len(err.graph_message) == 200


@pytest.mark.parametrize("body,ctype", [("", "application/json"), ("{not json", "application/json")])
def test_empty_or_broken_json_error_body_never_raises_json_errors(body, ctype):
    client, _, _ = make_client([reply(403, body, Content_Type=ctype)])
    with pytest.raises(GraphAuthorizationError) as info:
        client.get("/users")
    assert info.value.code is None
    assert info.value.graph_message == ("empty response body" if not body else "{not json")


def test_debug_log_names_method_url_status_and_request_id_but_never_the_token(caplog):
    client, _, _ = make_client([reply(200, {}, **{"request-id": "rid-log"})], token_provider=lambda: "SECRET-TOK")
    with caplog.at_level(logging.DEBUG, logger="ccsync.graph"):
        client.get("/users", params={"$top": 5})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"GET {ROOT}/users?$top=5 -> 200 request-id=rid-log" in text
    assert "SECRET-TOK" not in text and "Bearer" not in text


def test_retry_events_reach_on_event():
    events = []
    client, _, _ = make_client([reply(429, {}, Retry_After="0.5"), reply(200, {})], on_event=events.append)
    client.get("/users")
    assert events == [{"event": "retry", "method": "GET", "url": f"{ROOT}/users", "reason": "429",
                       "attempt": 1, "delay": 0.5}]


def test_base_url_must_be_http():
    with pytest.raises(InputError, match="https://"):
        GraphClient("graph.microsoft.com", lambda: "t")


def test_from_profile_builds_the_session_and_token_provider_lazily(monkeypatch):
    created = {}

    class FakeProvider:
        def __init__(self, profile, session=None, secret=None, prompt=True):
            created.update(profile=profile, session=session, secret=secret)

        def token(self):
            return "from-profile"

    monkeypatch.setitem(sys.modules, "toolkit.auth", types.SimpleNamespace(TokenProvider=FakeProvider))
    profile = types.SimpleNamespace(graph_base="https://graph.microsoft.us", ca_bundle=None)
    client = GraphClient.from_profile(profile, secret="s3cr3t")
    assert client.root == "https://graph.microsoft.us/v1.0"
    assert created["session"] is client.session and created["secret"] == "s3cr3t"
    assert client._token() == "from-profile"


def test_generic_error_status_maps_to_graph_error():
    client, _, _ = make_client([reply(410, graph_error_body("syncStateNotFound", "token expired"))])
    with pytest.raises(GraphError) as info:
        client.get(f"{BASE}/v1.0/users/delta?$deltatoken=old")
    assert info.value.status == 410 and info.value.code == "syncStateNotFound"


def test_a_401_gets_one_more_try_with_a_new_token_when_the_provider_can_invalidate():
    class Renewing(Tokens):
        invalidated = 0

        def invalidate(self):
            self.invalidated += 1

    tokens = Renewing()
    client, adapter, _ = make_client([reply(401, graph_error_body("InvalidAuthenticationToken", "expired")),
                                      reply(200, {"id": "x"})], token_provider=tokens)
    assert client.get("/users/x") == {"id": "x"}
    assert tokens.invalidated == 1 and adapter.requests[1].headers["Authorization"] == "Bearer token-2"
    client, adapter, _ = make_client([reply(401, graph_error_body("InvalidAuthenticationToken", "no"))] * 2,
                                     token_provider=Renewing())
    with pytest.raises(GraphAuthorizationError, match="InvalidAuthenticationToken"):
        client.get("/users/x")
    assert len(adapter.requests) == 2


def test_guest_upns_with_hash_are_encoded_in_the_path():
    client, adapter, _ = make_client([reply(200, {"id": "g"})])
    client.get("users/ann_contoso.com#EXT#@fabrikam.onmicrosoft.com", params={"$select": "id"})
    assert adapter.requests[0].url == f"{ROOT}/users/ann_contoso.com%23EXT%23@fabrikam.onmicrosoft.com?$select=id"
