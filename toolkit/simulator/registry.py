"""Which Graph resource families the simulated Graph serves, in the order their routes answer.

Each family is a module with a ``ROUTES`` table (``graph_api.routing.RouteTable``); ``graph_routing()`` assembles
them, over the directory permissions of ``graph_api.permissions``, into the ``Routing`` a ``GraphService`` reads.
A new resource is a module with its own table, added to ``FAMILIES`` here. The first matching route answers,
so the order matters only between routes of one method whose patterns overlap; ``manager`` puts its
``GET /users/{key}`` (``$expand=manager``) ahead of the users family's own.
"""

from __future__ import annotations

from types import ModuleType

from . import applications, auditlogs, manager, policies, synchronization
from .graph_api import batch, deleted, directory, groups, invitations, licences, users
from .graph_api.permissions import ROLES
from .graph_api.routing import Routing

__all__ = ["FAMILIES", "graph_routing"]

FAMILIES: tuple[ModuleType, ...] = (
    users, deleted, licences, groups, directory, invitations,      # the directory core (graph_api/)
    applications, auditlogs, batch, manager, policies, synchronization,
)


def graph_routing() -> Routing:
    """The routes of every family in ``FAMILIES`` order, their permissions and modelled ``$expand``s."""
    return Routing.assemble((family.ROUTES for family in FAMILIES), ROLES)
