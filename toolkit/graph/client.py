"""GraphClient: one session, the auth header, paging, retries, pacing and the one error choke point.

URL building lives in ``urls.py`` and the reading of answers (bodies, errors) in ``responses.py``, which
``batch.py`` uses too; the names that used to live here (``GraphResponse``, ``error_from_response``,
``quote_path``, ``USERS_TOP_MAX``) are still importable from this module.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable, Iterator, Mapping, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests

from ..errors import GraphError, InputError, TransportError, graph_error_for_status, redact
from ..transport import make_session
from .batch import run_batch
from .pacing import WritePacer, api_path
from .responses import GraphResponse, error_from_response, parse_body
from .retry import WRITE_METHODS, RetryPolicy, is_idempotent, sent_before_failure
from .stats import CallStats
from .urls import QUERY_SAFE, USERS_TOP_MAX, check_top, param_text, quote_path

__all__ = ["GraphClient", "GraphResponse", "DeltaResult", "TokenSource", "error_from_response", "quote_path",
           "USERS_TOP_MAX"]

log = logging.getLogger("ccsync.graph")

_DEFAULT = object()


class TokenSource(Protocol):
    def token(self) -> str: ...


class DeltaResult:
    """Items of a delta query; ``delta_link`` is set once the last page has been read.

    Iterate it once: ``for user in result: ...`` then store ``result.delta_link`` for the next run.
    """

    def __init__(self, client: "GraphClient", path: str, params: Mapping[str, Any] | None,
                 headers: Mapping[str, str] | None):
        self._client, self._path, self._params, self._headers = client, path, params, headers
        self.delta_link: str | None = None
        self.pages = 0
        self._started = False

    def __iter__(self) -> Iterator[dict]:
        if self._started:
            raise RuntimeError("a DeltaResult can be iterated once; call iter_delta(result.delta_link) next")
        self._started = True
        for body in self._client._iter_bodies(self._path, self._params, self._headers):
            self.pages += 1
            yield from body.get("value", [])
            if body.get("@odata.deltaLink"):
                self.delta_link = body["@odata.deltaLink"]


class GraphClient:
    """Microsoft Graph over one ``requests.Session`` (see docs/ARCHITECTURE.md "Graph client").

    ``token_provider`` is a callable returning an access token or an object with ``.token()``; it is asked
    for every request so msal's cache can refresh the token. If it also has ``.invalidate()`` (like
    ``auth.TokenProvider``), a 401 makes the client drop the token and try once more with a new one.
    ``pacer`` defaults to a ``WritePacer`` with Graph's documented quotas; pass None to send unpaced, but not
    for write-heavy batches: throttled writes still count against Graph's quota, so unpaced workers that resend
    after each Retry-After keep the quota in debt (bench/bench_writes.py measured 74 % of items throttled and
    a third of the writes failing). ``on_event`` receives progress dicts (from worker threads during ``batch``).
    """

    def __init__(self, base_url: str, token_provider: Callable[[], str] | TokenSource,
                 session: requests.Session | None = None, *, version: str = "v1.0",
                 retry: RetryPolicy | None = None, pacer: WritePacer | None | object = _DEFAULT,
                 max_workers: int = 4, on_event: Callable[[dict[str, Any]], None] | None = None,
                 timeout: float | tuple[float, float] = (10.0, 100.0), retry_unsafe: bool = False):
        if not base_url.startswith(("https://", "http://")):
            raise InputError(f"Graph base URL {base_url!r} must start with https://",
                             hint="Use the cloud's Graph root, e.g. https://graph.microsoft.us.")
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.root = f"{self.base_url}/{self.version}"
        self._origin = urlsplit(self.base_url)[:2]
        self._token_provider = token_provider
        self.session = session if session is not None else make_session()
        self.retry = retry or RetryPolicy()
        self.pacer: WritePacer | None = WritePacer() if pacer is _DEFAULT else pacer  # type: ignore[assignment]
        self.max_workers = max(1, max_workers)
        self.on_event = on_event
        self.timeout = timeout
        self.retry_unsafe = retry_unsafe
        self.stats = CallStats()

    @classmethod
    def from_profile(cls, profile: Any, secret: str | None = None, **kwargs: Any) -> "GraphClient":
        """A client for a ``config.Profile``: its Graph base (or override), CA bundle and a TokenProvider."""
        from ..auth import TokenProvider  # lazy: auth pulls in msal, which cmdlets that only read files skip

        session = kwargs.pop("session", None) or make_session(getattr(profile, "ca_bundle", None))
        provider = TokenProvider(profile, session=session, secret=secret)
        return cls(profile.graph_base, provider, session, **kwargs)

    # --- URLs and headers ------------------------------------------------------------------------------
    def url_for(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> str:
        """Absolute URL: a full URL (a nextLink) as is, else relative to ``<base>/<version>``; plus params."""
        if "://" in path_or_url:
            if urlsplit(path_or_url)[:2] != self._origin:
                raise TransportError(
                    f"Refusing to send the Graph token to {redact(path_or_url)}: it is not on {self.base_url}.",
                    hint="A nextLink or URL from another host is never followed with this tenant's token.",
                    url=path_or_url)
            url = path_or_url
        else:
            url = f"{self.root}/{quote_path(path_or_url.lstrip('/'))}"
        if params:
            query = urlencode({k: param_text(v) for k, v in params.items() if v is not None},
                              quote_via=quote, safe=QUERY_SAFE)
            if query:
                url = f"{url}{'&' if '?' in url else '?'}{query}"
        return url

    def _token(self) -> str:
        provider = self._token_provider
        return provider.token() if hasattr(provider, "token") else provider()  # type: ignore[operator,union-attr]

    def _headers(self, extra: Mapping[str, str] | None, query: Mapping[str, str]) -> dict[str, str]:
        hdrs = {"Accept": "application/json", "return-client-request-id": "true"}
        # Advanced queries ($count, $search) only work with this header (graph-facts 6.4).
        if "$count" in query or "$search" in query:
            hdrs["ConsistencyLevel"] = "eventual"
        if extra:
            hdrs.update(extra)
        return hdrs

    # --- the request loop ------------------------------------------------------------------------------
    def request(self, method: str, path_or_url: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None, retry_not_found: float = 0.0,
                retry_unsafe: bool | None = None, idempotent: bool | None = None) -> GraphResponse:
        """Send one request with retries and pacing; return the answer or raise the matching GraphError.

        ``retry_not_found``: seconds during which a 404 is retried (replication lag after a write).
        ``retry_unsafe``: allow resending a POST/PATCH whose outcome is unknown (see ``retry.py``).
        ``idempotent``: override the method's idempotency (a ``$batch`` of GETs is safe to resend).
        """
        method = method.upper()
        url = self.url_for(path_or_url, params)
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        if "://" not in path_or_url:
            check_top(path_or_url, query)
        if path_or_url.rstrip("/").endswith("/$count"):
            query.setdefault("$count", "true")
        base_headers = self._headers(headers, query)
        unsafe = self.retry_unsafe if retry_unsafe is None else retry_unsafe
        resendable = unsafe or (is_idempotent(method) if idempotent is None else idempotent)
        policy = self.retry
        attempt = 0
        waited = 0.0
        first_404: float | None = None
        token_renewed = False
        while True:
            attempt += 1
            if self.pacer is not None:
                self.pacer.before_send(method, url)
            client_request_id = str(uuid.uuid4())
            send_headers = dict(base_headers)
            send_headers["client-request-id"] = client_request_id
            send_headers["Authorization"] = f"Bearer {self._token()}"
            started = time.perf_counter()
            self.stats.add(requests=1, writes_sent=1 if method in WRITE_METHODS and api_path(url) != "/$batch"
                           else 0)
            try:
                resp = self.session.request(method, url, headers=send_headers, json=json, timeout=self.timeout)
            except requests.exceptions.SSLError as exc:
                self.stats.add(transport_errors=1)
                raise TransportError(
                    f"{method} {redact(url)}: TLS verification failed ({_short(exc)}).",
                    hint="If a proxy inspects TLS, point REQUESTS_CA_BUNDLE (or the profile's ca_bundle) at a "
                         "CA bundle that includes its root certificate.",
                    method=method, url=url) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                self.stats.add(transport_errors=1)
                unknown = sent_before_failure(exc)
                log.debug("%s %s -> %s (attempt %d, client-request-id %s)", method, redact(url),
                          type(exc).__name__, attempt, client_request_id)
                if unknown and not resendable:
                    raise TransportError(
                        f"{method} {redact(url)}: the connection failed after the request was sent "
                        f"({type(exc).__name__}), so its outcome is unknown: Graph may or may not have carried "
                        f"it out. It was not resent (client-request-id {client_request_id}).",
                        hint="Check whether the change exists (e.g. look the object up) before trying again.",
                        method=method, url=url) from exc
                delay = policy.backoff(attempt)
                if not policy.may_continue(attempt, waited, delay):
                    raise TransportError(
                        f"{method} {redact(url)}: no answer from Graph after {attempt} attempts "
                        f"({type(exc).__name__}: {_short(exc)}).",
                        hint="Check the network path to Graph (proxy, firewall, DNS) and try again.",
                        method=method, url=url) from exc
                self._wait(delay, attempt, method, url, reason=type(exc).__name__)
                waited += delay
                continue

            status = resp.status_code
            request_id = resp.headers.get("request-id")
            self.stats.add(bytes=len(resp.content or b""))
            self.stats.record_status(status)
            log.debug("%s %s -> %d request-id=%s client-request-id=%s attempt=%d %.0fms", method, redact(url),
                      status, request_id, client_request_id, attempt, (time.perf_counter() - started) * 1000)
            if self.pacer is not None:
                self.pacer.after_response(method, url, status, resp.headers)
            if status < 400:
                return GraphResponse(status, resp.headers, parse_body(resp), url, request_id,
                                     resp.headers.get("client-request-id", client_request_id))

            retry_after = policy.retry_after_seconds(resp.headers.get("Retry-After"))
            if status == 401 and not token_renewed and hasattr(self._token_provider, "invalidate"):
                # A token revoked or expired early: drop it from msal's cache and sign in again, once.
                token_renewed = True
                self._token_provider.invalidate()  # type: ignore[union-attr]
                self._wait(0.0, attempt, method, url, reason="401 (new token)")
                continue
            if status == 404 and retry_not_found > 0:
                now = policy.clock()
                first_404 = now if first_404 is None else first_404
                delay = min(policy.backoff(attempt), policy.cap)
                if now - first_404 + delay <= retry_not_found:
                    self._wait(delay, attempt, method, url, reason="404 (replication)")
                    continue
            elif policy.status_is_retryable(status, resendable=resendable):
                delay = policy.delay(attempt, retry_after)
                if policy.may_continue(attempt, waited, delay):
                    self._wait(delay, attempt, method, url, reason=str(status))
                    waited += delay
                    continue
            raise self._error(method, url, resp, client_request_id, retry_after)

    def _wait(self, delay: float, attempt: int, method: str, url: str, *, reason: str) -> None:
        self.stats.add(retries=1)
        self.emit({"event": "retry", "method": method, "url": redact(url), "reason": reason,
                   "attempt": attempt, "delay": round(delay, 3)})
        self.retry.sleep(delay)

    def _error(self, method: str, url: str, resp: requests.Response, client_request_id: str,
               retry_after: float | None) -> GraphError:
        error = error_from_response(method, url, resp.status_code, resp.headers, parse_body(resp),
                                    client_request_id=client_request_id, retry_after=retry_after)
        try:
            resp.raise_for_status()
        except requests.HTTPError as http_error:
            error.__cause__ = http_error  # keeps the request and response for debugging
        return error

    def emit(self, event: dict[str, Any]) -> None:
        """Send a progress event to ``on_event`` (if any)."""
        if self.on_event is not None:
            self.on_event(event)

    # --- conveniences ----------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        """GET and return the parsed body."""
        return self.request("GET", path, params=params, headers=headers, **kwargs).body

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs).body

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs).body

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs).body

    def _iter_bodies(self, path: str, params: Mapping[str, Any] | None,
                     headers: Mapping[str, str] | None) -> Iterator[dict]:
        url: str = path
        page_params = params
        while True:
            resp = self.request("GET", url, params=page_params, headers=headers)
            body = resp.body
            if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
                raise graph_error_for_status(
                    resp.status, method="GET", url=resp.url, request_id=resp.request_id,
                    message="expected a collection ({'value': [...]}) but got "
                            f"{type(body).__name__}; is this URL a collection?")
            yield body
            next_link = body.get("@odata.nextLink")
            if not next_link:
                return
            # Used verbatim: the skip token is opaque and the query is already encoded into it.
            url, page_params = next_link, None

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> Iterator[list[dict]]:
        """Each page's ``value`` list, following ``@odata.nextLink`` verbatim until it is absent."""
        for body in self._iter_bodies(path, params, headers):
            yield body.get("value", [])

    def iter_items(self, path: str, params: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> Iterator[dict]:
        """Every item of a collection, page after page."""
        for page in self.iter_pages(path, params, headers):
            yield from page

    def iter_delta(self, path_or_delta_link: str, params: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> DeltaResult:
        """A delta query (``users/delta`` or a stored deltaLink); see ``DeltaResult``."""
        return DeltaResult(self, path_or_delta_link, params, headers)

    def count(self, path: str, filter: str | None = None) -> int:
        """``GET <path>/$count`` (an advanced query, so with ``ConsistencyLevel: eventual``)."""
        resp = self.request("GET", f"{path.rstrip('/')}/$count", params={"$filter": filter} if filter else None,
                            headers={"ConsistencyLevel": "eventual", "Accept": "text/plain"})
        try:
            return int(str(resp.body).strip())
        except ValueError:
            raise graph_error_for_status(
                resp.status, method="GET", url=resp.url, request_id=resp.request_id,
                message=f"expected a number from $count, got {str(resp.body)[:80]!r}") from None

    def batch(self, items: list, *, on_event: Callable[[dict[str, Any]], None] | None = None) -> list:
        """Run any number of ``BatchRequest``s through ``$batch`` (20 per call); see ``batch.py``."""
        return run_batch(self, items, on_event=on_event)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."
