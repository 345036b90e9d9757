"""How the simulated Graph finds the handler of a request: ``Route``, the ``RouteTable`` each resource family
fills, and the ``Routing`` that ``toolkit.simulator.registry`` assembles from the families' tables.

A family module makes one table and decorates its handlers with it; importing a family fills that family's own
table and nothing else (no shared list grows at import time). The order of the assembled routes is the
registry's order of families: the first route whose method and pattern match answers, so order matters only
between routes of one method whose patterns overlap (``GET /users/$count`` before ``GET /users/{key}``). A
route may ask to answer ahead of another family's handler (``ahead_of``): ``$expand=manager`` answers
``GET /users/{key}`` before the users family and delegates to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import AbstractSet, Callable, Iterable, Mapping

from .messages import GraphResult

__all__ = ["AUTHENTICATED", "Handler", "Route", "RouteTable", "Routing"]

Handler = Callable[..., GraphResult]

# The permission of a route that needs only a valid token (the $batch envelope: each inner request is checked).
AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    permission: str


class RouteTable:
    """The routes of one resource family, the permissions they name (``{name: app roles that grant it}``) and
    the navigation properties it expands (``{"user": {"manager"}}``)."""

    def __init__(self, permissions: Mapping[str, frozenset[str]] | None = None,
                 expansions: Mapping[str, AbstractSet[str]] | None = None):
        self.entries: list[tuple[Route, Handler | None]] = []
        self.permissions: dict[str, frozenset[str]] = dict(permissions or {})
        self.expansions: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in (expansions or {}).items()}

    def route(self, method: str, pattern: str, permission: str, *,
              ahead_of: Handler | None = None) -> Callable[[Handler], Handler]:
        """Register a handler ``fn(service, request, **groups) -> GraphResult`` for METHOD and a path regex
        (the whole path after /v1.0, case-insensitive); ``ahead_of``: the handler this one answers before."""
        def deco(fn: Handler) -> Handler:
            self.entries.append((Route(method.upper(), re.compile(f"^{pattern}$", re.IGNORECASE), fn, permission),
                                 ahead_of))
            return fn
        return deco


@dataclass(frozen=True)
class Routing:
    """The assembled routes in answering order, every permission name with its roles, and the modelled
    ``$expand`` navigation properties per type (``check_query_options``' ``modelled``)."""

    routes: tuple[Route, ...]
    roles: Mapping[str, frozenset[str]]
    expansions: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def assemble(cls, tables: Iterable[RouteTable], roles: Mapping[str, frozenset[str]]) -> "Routing":
        """The families' tables in order, over the ``roles`` they share. A permission declared twice with other
        roles, an unknown permission or a missing ``ahead_of`` target is a mistake in the simulator's code."""
        routes: list[Route] = []
        all_roles = dict(roles)
        expansions: dict[str, set[str]] = {}
        for table in tables:
            for name, granted in table.permissions.items():
                if all_roles.setdefault(name, granted) != granted:
                    raise ValueError(f"permission '{name}' is declared twice with different roles")
            for type_name, names in table.expansions.items():
                expansions.setdefault(type_name, set()).update(names)
            for new, ahead_of in table.entries:
                if ahead_of is None:
                    routes.append(new)
                    continue
                index = next((i for i, r in enumerate(routes) if r.handler is ahead_of and r.method == new.method),
                             None)
                if index is None:
                    raise ValueError(f"{new.handler.__name__} answers ahead of {ahead_of.__name__}, which no "
                                     "earlier family routes")
                routes.insert(index, new)
        unknown = sorted({r.permission for r in routes if r.permission != AUTHENTICATED} - set(all_roles))
        if unknown:
            raise ValueError(f"routes name permissions no family declares: {', '.join(unknown)}")
        return cls(tuple(routes), MappingProxyType(all_roles),
                   MappingProxyType({k: frozenset(v) for k, v in expansions.items()}))
