"""Test doubles for the Graph client: a scripted transport adapter mounted on the real session, a fake clock.

Tests swap the lowest layer only: GraphClient, its session (``toolkit.transport.make_session``) and requests'
request preparation all run for real; the adapter answers instead of the network.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from toolkit.graph import GraphClient, RetryPolicy, WritePacer
from toolkit.transport import make_session

BASE = "https://graph.test"
ROOT = f"{BASE}/v1.0"


@dataclass
class Reply:
    status: int = 200
    body: Any = None            # dict/list -> JSON; str -> sent as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)


def reply(status: int = 200, body: Any = None, **headers: str) -> Reply:
    """A scripted answer; header names use _ for - (``Retry_After="2.128"``)."""
    return Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted Reply (or raises the next scripted exception), or asks a
    ``handler(prepared_request) -> Reply`` when one is given. Records every request it saw."""

    def __init__(self, script: list[Any] | None = None,
                 handler: Callable[[requests.PreparedRequest], Reply] | None = None):
        super().__init__()
        self.script = list(script or [])
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        with self._lock:
            self.requests.append(request)
            if self.handler is None:
                if not self.script:
                    raise AssertionError(f"unscripted request {request.method} {request.url}")
                step = self.script.pop(0)
            else:
                step = None
        if step is None:
            step = self.handler(request)  # type: ignore[misc]
        if isinstance(step, BaseException):
            raise step
        return build_response(request, step)

    def close(self) -> None:
        pass

    def json_bodies(self) -> list[Any]:
        return [json.loads(r.body) if r.body else None for r in self.requests]


def build_response(request: requests.PreparedRequest, step: Reply) -> requests.Response:
    resp = requests.Response()
    resp.status_code = step.status
    resp.request = request
    resp.url = request.url or ""
    resp.reason = "scripted"
    resp.encoding = "utf-8"
    headers = CaseInsensitiveDict(step.headers)
    if isinstance(step.body, (dict, list)):
        content = json.dumps(step.body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(step.body, str):
        content = step.body.encode()
    elif isinstance(step.body, bytes):
        content = step.body
    else:
        content = b""
    resp.headers = headers
    resp._content = content
    return resp


class FakeClock:
    """Monotonic time that only moves when someone sleeps; thread-safe; records every sleep."""

    def __init__(self, start: float = 1000.0, wall: float = 1_700_000_000.0):
        self.now = start
        self.wall_offset = wall - start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def wall(self) -> float:
        with self._lock:
            return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


class Tokens:
    """A token provider double counting how often it was asked (``.token()`` like auth.TokenProvider)."""

    def __init__(self) -> None:
        self.calls = 0

    def token(self) -> str:
        self.calls += 1
        return f"token-{self.calls}"


def make_client(script: list[Any] | None = None, *, handler: Callable | None = None, clock: FakeClock | None = None,
                pacer: WritePacer | None = None, rng: Any = None, **kwargs: Any
                ) -> tuple[GraphClient, ScriptedAdapter, FakeClock]:
    clock = clock or FakeClock()
    adapter = ScriptedAdapter(script, handler)
    session = make_session()
    session.mount(BASE + "/", adapter)
    policy_kwargs = {k: kwargs.pop(k) for k in ("max_attempts", "base", "factor", "cap", "max_retry_after",
                                                 "max_elapsed") if k in kwargs}
    if rng is not None:
        policy_kwargs["rng"] = rng
    policy = RetryPolicy(sleep=clock.sleep, clock=clock, wall_clock=clock.wall, **policy_kwargs)
    client = GraphClient(BASE, kwargs.pop("token_provider", Tokens()), session, retry=policy, pacer=pacer,
                         **kwargs)
    return client, adapter, clock


def graph_error_body(code: str, message: str, request_id: str = "req-inner") -> dict[str, Any]:
    return {"error": {"code": code, "message": message,
                      "innerError": {"date": "2026-01-01T00:00:00", "request-id": request_id,
                                     "client-request-id": "cri-inner"}}}
