"""The simulated Graph's explicit route registry (toolkit/simulator/registry.py): the families' tables assemble
into one answering order, the same every time, with every permission a route names declared."""

from __future__ import annotations

import pytest

from toolkit.simulator.graph_api import RouteTable, Routing
from toolkit.simulator.graph_api.users import get_user
from toolkit.simulator.manager import get_user_expanding_manager
from toolkit.simulator.registry import FAMILIES, graph_routing


def _handlers(routing: Routing, method: str, path: str) -> list[str]:
    return [r.handler.__name__ for r in routing.routes if r.method == method and r.pattern.match(path)]


def test_assembling_twice_gives_the_same_routes_and_importing_registers_nothing_twice():
    first, second = graph_routing(), graph_routing()
    assert [(r.method, r.pattern.pattern, r.handler) for r in first.routes] == \
           [(r.method, r.pattern.pattern, r.handler) for r in second.routes]
    assert len(first.routes) == sum(len(family.ROUTES.entries) for family in FAMILIES)


def test_first_match_order_keeps_count_and_the_manager_expansion_ahead_of_get_user():
    routing = graph_routing()
    assert _handlers(routing, "GET", "/users/$count")[0] == "count_users"
    assert _handlers(routing, "GET", "/users/abc") == ["get_user_expanding_manager", "get_user"]
    index = {r.handler: i for i, r in enumerate(routing.routes) if r.method == "GET"}
    assert index[get_user_expanding_manager] + 1 == index[get_user]
    assert routing.expansions["user"] == {"manager"}


def test_every_permission_a_route_names_is_declared_with_its_app_roles():
    routing = graph_routing()
    for r in routing.routes:
        assert r.permission == "authenticated" or routing.roles[r.permission], r
    assert "OrgContact.Read.All" in routing.roles["contacts.read"]
    assert routing.roles["auditlogs.read"] == {"AuditLog.Read.All"}


def _noop(svc, req):  # pragma: no cover - never called
    raise AssertionError


def test_a_mistaken_table_is_refused_when_assembled():
    clash = RouteTable(permissions={"users.read": frozenset({"Other.Read.All"})})
    with pytest.raises(ValueError, match="users.read"):
        Routing.assemble([clash], {"users.read": frozenset({"User.Read.All"})})
    undeclared = RouteTable()
    undeclared.route("GET", r"/things", "things.read")(_noop)
    with pytest.raises(ValueError, match="things.read"):
        Routing.assemble([undeclared], {})
    orphan = RouteTable()
    orphan.route("GET", r"/users/(?P<key>[^/]+)", "users.read", ahead_of=get_user)(_noop)
    with pytest.raises(ValueError, match="ahead of get_user"):
        Routing.assemble([orphan], {"users.read": frozenset({"User.Read.All"})})
