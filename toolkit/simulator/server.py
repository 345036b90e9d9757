"""One HTTPS server per simulated cloud: loopback, ephemeral port, TLS from the simulator's test CA.

The WSGI app sends ``/v1.0/...`` to the Graph side and everything else to the login side
(``toolkit.simulator.login.LoginService``). Per Graph request, in this order: injected latency and faults
(``FaultInjector``), bearer-token validation for THIS cloud (401 ``InvalidAuthenticationToken``), then
``GraphService.execute`` (throttle model, app-role check, route; the routes are ``registry.graph_routing()``).
Every Graph response carries ``request-id``, ``client-request-id`` (echoed when the client sent one) and
Graph's JSON content type.

A ``reset`` fault really resets the TCP connection: the app raises ``ResetConnection`` and the server
(``httpd.HTTPSServer``, keep-alive HTTP/1.1) closes that socket with ``SO_LINGER`` 0 instead of answering,
which makes the kernel send RST.
"""

from __future__ import annotations

import json
import random
import ssl
import threading
import time
import uuid
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

from .graph_api import JSON_TYPE, GraphRequest, GraphResult, GraphService, complete_error
from .httpd import HTTPSServer, ResetConnection
from .registry import graph_routing
from .state import Directory

__all__ = ["CloudServer", "ResetConnection", "discovery_clouds_for"]


def discovery_clouds_for(cloud: str) -> list[str]:
    """Clouds whose tenants this cloud's login host answers discovery for (the global authority covers
    commercial, GCC, GCC High and DoD; Azure Government covers GCC High and DoD; China only China)."""
    if cloud in ("commercial", "gcc"):
        return ["commercial", "gcc", "gcch", "dod"]
    if cloud in ("gcch", "dod"):
        return ["gcch", "dod"]
    return [cloud]


class CloudServer:
    """The login + Graph server of one cloud."""

    def __init__(self, cloud: str, directory: Directory, ssl_context: ssl.SSLContext, *, throttle: Any,
                 faults: Any, latency_ms: float = 0.0, page_size: int = 100, batch_seed: int | None = None,
                 device_auto_approve_after: int = 1, peer_base_url: Callable[[str], str | None] | None = None):
        from .login import LoginService

        self.cloud = cloud
        self.directory = directory
        self.faults = faults
        self.latency_ms = latency_ms
        self._ssl_context = ssl_context
        self._server: HTTPSServer | None = None
        self._thread: threading.Thread | None = None
        self.graph = GraphService(cloud, throttle, graph_routing(), page_size=page_size,
                                  replication_lag_s=float(getattr(faults, "replication_lag", 0.0) or 0.0),
                                  index_lag_s=float(getattr(getattr(faults, "config", None), "index_lag_s", 0.0)
                                                    or 0.0),
                                  rng=random.Random(batch_seed))
        self.graph.directory = directory    # routes that reach another tenant (cross-tenant sync) read it
        self.control: Callable[[Request], Response] | None = None   # set by Simulator (portal.control)
        self.login = LoginService(cloud, directory, lambda: self.base_url,
                                  discovery_clouds=discovery_clouds_for(cloud),
                                  device_auto_approve_after=device_auto_approve_after,
                                  peer_base_url=peer_base_url)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.cloud} server is not running")
        return f"https://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self._server = HTTPSServer(self.wsgi, self._ssl_context)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"ccsync-sim-{self.cloud}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- WSGI ------------------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path == "/v1.0" or path.startswith("/v1.0/"):
            response = self.graph_response(request, path[len("/v1.0"):] or "/")
        elif path.startswith("/_simulator/") and self.control is not None:
            response = self.control(request)       # portal-only admin steps (portal.py), not Graph
        else:
            response = self.login.handle(request)
            if response is None:
                response = Response(json.dumps({"error": {"code": "NotFound", "message": f"No resource at {path}."}}),
                                    status=404, content_type="application/json")
        return response(environ, start_response)

    def graph_response(self, request: Request, path: str) -> Response:
        request_id = str(uuid.uuid4())
        client_id = request.headers.get("client-request-id") or request_id
        fault = self.faults.decide(request.method, path) if self.faults is not None else None
        delay = self.latency_ms / 1000.0 + (self.faults.latency() if self.faults is not None else 0.0)
        if fault is not None and fault.kind == "slow":
            delay += fault.delay_s
        if delay > 0:
            time.sleep(delay)
        if fault is not None and fault.kind == "reset":
            raise ResetConnection("injected connection reset")
        if fault is not None and fault.kind in ("429", "503", "504"):
            status = int(fault.kind)
            code, message = {429: ("TooManyRequests", "Please retry again later."),
                             503: ("ServiceUnavailable", "Service Unavailable"),
                             504: ("GatewayTimeout", "Gateway Timeout")}[status]
            headers = {}
            if fault.retry_after is not None and status in (429, 503):
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if status == 429:
                # A 429 under load carries the same throttling headers as a quota 429 (docs/graph-facts.md 8.2):
                # scope Tenant_Application/<limit>/<app>/<tenant> and a diagnostic string.
                app_id, tenant_id = _unverified_app_and_tenant(request.headers.get("Authorization", ""))
                limit = "Read" if request.method.upper() == "GET" else "Write"
                headers["x-ms-throttle-scope"] = f"Tenant_Application/{limit}/{app_id}/{tenant_id}"
                headers["x-ms-throttle-information"] = "CPULimitExceeded"
            return self.render(GraphResult(status, {"error": {"code": code, "message": message}}, headers),
                               request_id, client_id)
        result = self.authenticate_and_run(request, path)
        return self.render(result, request_id, client_id)

    def authenticate_and_run(self, request: Request, path: str) -> GraphResult:
        from .login import TokenRejected, validate_access_token

        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return _unauthorized("Access token is empty.")
        try:
            claims = validate_access_token(auth[7:].strip(), self.cloud, signing_key=self.login.signing_key)
        except TokenRejected as exc:
            return _unauthorized(exc.message or "Access token validation failure.")
        tenant = self.directory.find_tenant(str(claims.get("tid", "")))
        if tenant is None or tenant.cloud != self.cloud:
            return _unauthorized("Access token validation failure. Invalid audience.")
        app_id = str(claims.get("appid") or claims.get("azp") or "").lower()
        body: Any = None
        data = request.get_data()
        if data:
            try:
                body = json.loads(data)
            except ValueError:
                return GraphResult(400, {"error": {"code": "BadRequest", "message": "Unable to read JSON request "
                                                   "payload. Please ensure Content-Type header is set and payload "
                                                   "is of valid JSON format."}})
        greq = GraphRequest(method=request.method.upper(), path=path, query=dict(request.args.items()),
                            headers=dict(request.headers.items()), body=body, tenant=tenant, app_id=app_id,
                            roles=frozenset(claims.get("roles") or []), base_url=self.base_url)
        return self.graph.execute(greq)

    def render(self, result: GraphResult, request_id: str, client_id: str) -> Response:
        headers = {"request-id": request_id, "client-request-id": client_id, "Cache-Control": "no-cache",
                   "Strict-Transport-Security": "max-age=31536000",
                   "x-ms-ags-diagnostic": json.dumps({"ServerInfo": {"DataCenter": f"Sim {self.cloud}",
                                                                     "Slice": "E", "Ring": "1",
                                                                     "ScaleUnit": "000", "RoleInstance": "SIM"}},
                                                     separators=(",", ":"))}
        body = result.body
        if result.status >= 400:
            body = complete_error(body, request_id, client_id)
            content_type = "application/json"
        elif isinstance(body, str):
            content_type = result.headers.pop("Content-Type", "text/plain;charset=utf-8")
        else:
            content_type = JSON_TYPE
            headers["OData-Version"] = "4.0"
        headers.update(result.headers)
        headers.pop("Content-Type", None)
        payload = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        response = Response(payload, status=result.status, headers=headers)
        if body is not None:
            response.headers["Content-Type"] = content_type
        else:
            del response.headers["Content-Type"]
        return response


def _unauthorized(message: str) -> GraphResult:
    return GraphResult(401, {"error": {"code": "InvalidAuthenticationToken", "message": message}},
                       {"WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                                            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'})


def _unverified_app_and_tenant(authorization: str) -> tuple[str, str]:
    """appid and tid of a bearer token, read without verifying it (only to label a throttling header)."""
    import base64

    try:
        payload = authorization.split(" ", 1)[1].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims.get("appid") or claims.get("azp") or ""), str(claims.get("tid") or "")
    except (IndexError, ValueError, TypeError):
        return "", ""
