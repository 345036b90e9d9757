"""Graph's error answer inside the simulator: ``GraphFault`` and the three refusals every resource uses.

A handler raises a ``GraphFault``; ``graph_api.service.GraphService`` renders it as Graph's error body
(``{"error": {"code", "message"}}``, completed with ``innerError`` by ``graph_api.messages.complete_error``).
The messages are Graph's own (graph-facts.md 6.1, 6.3, 6.4).
"""

from __future__ import annotations

from typing import Mapping

__all__ = ["GraphFault", "bad_request", "unsupported_query", "not_found"]


class GraphFault(Exception):
    """A Graph error answer: status, Graph error code and message (rendered by the server in Graph's body)."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphFault:
    return GraphFault(400, code, message)


def unsupported_query(message: str = "Unsupported Query.") -> GraphFault:
    return GraphFault(400, "Request_UnsupportedQuery", message)


def not_found(object_id: str) -> GraphFault:
    return GraphFault(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                      "are not present.")
