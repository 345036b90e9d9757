"""Graph's answers as ccsync reads them: a successful ``GraphResponse``, a parsed body, and the one mapping from
an error answer (a whole response or one ``$batch`` item) to the typed ``GraphError`` of ``toolkit.errors``."""

from __future__ import annotations

import html
import json as jsonlib
import re
from dataclasses import dataclass
from typing import Any, Mapping

import requests
from requests.structures import CaseInsensitiveDict

from ..errors import GraphError, graph_error_fields, graph_error_for_status

__all__ = ["GraphResponse", "parse_body", "error_from_response"]


@dataclass
class GraphResponse:
    """A successful Graph answer: ``body`` is parsed JSON, plain text (``$count``), or None when empty."""

    status: int
    headers: CaseInsensitiveDict
    body: Any
    url: str = ""
    request_id: str | None = None
    client_request_id: str | None = None


_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def _plain_text(text: str, limit: int = 200) -> str:
    """Readable text from an error body that is not JSON (an HTML page from a proxy): markup stripped."""
    stripped = html.unescape(_TAGS.sub(" ", text))
    return " ".join(stripped.split())[:limit]


def parse_body(resp: requests.Response) -> Any:
    """The body of an HTTP answer: parsed JSON when it is JSON, else its text; None when empty."""
    content = resp.content
    if not content:
        return None
    ctype = resp.headers.get("Content-Type", "")
    text = resp.text
    if "json" in ctype or text.lstrip()[:1] in ("{", "["):
        try:
            return jsonlib.loads(text)
        except ValueError:
            return text
    return text


def error_from_response(method: str, url: str, status: int, headers: Mapping[str, Any] | None, body: Any,
                        *, client_request_id: str | None = None, retry_after: float | None = None) -> GraphError:
    """The one mapping from a Graph error answer (or ``$batch`` item) to a typed GraphError.

    ``body`` is the parsed JSON error, or the raw text of a body that was not JSON; a non-JSON body becomes
    ``message`` (first 200 characters, markup stripped) with ``code`` None.
    """
    hdrs = CaseInsensitiveDict(headers or {})
    code, message = graph_error_fields(body if isinstance(body, Mapping) else None)
    inner: Mapping[str, Any] = {}
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        found = body["error"].get("innerError") or body["error"].get("innererror") or {}
        inner = found if isinstance(found, Mapping) else {}
    elif isinstance(body, str):
        message = _plain_text(body) or "empty response body"
    elif body is None:
        message = "empty response body"
    code = code or None  # Graph sometimes sends "code": ""
    return graph_error_for_status(
        status, method=method, url=url, code=code, message=message,
        request_id=hdrs.get("request-id") or inner.get("request-id"),
        client_request_id=hdrs.get("client-request-id") or inner.get("client-request-id") or client_request_id,
        retry_after=retry_after, body=body if isinstance(body, Mapping) else None)
