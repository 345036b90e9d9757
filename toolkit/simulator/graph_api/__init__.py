"""The simulated Microsoft Graph v1.0, one module per part.

Core: ``messages`` (request, answer, error bodies), ``routing`` (route tables), ``paging`` (context URLs, pages,
links), ``service`` (``GraphService``: throttle, permission, route), ``permissions``, ``schema`` (user and group
types), ``writes`` (adding a user, re-deriving licences). Resource families, each with its ``ROUTES`` table:
``users``, ``deleted`` (and ``delta``), ``licences``, ``groups``, ``directory``, ``invitations``, ``batch``.
``toolkit.simulator.registry`` lists the families (these and the simulator's other route modules) in order.

This face hands on the names other simulator modules import from ``toolkit.simulator.graph_api``; importing it
registers nothing.
"""

from .messages import JSON_TYPE, GraphRequest, GraphResult, complete_error
from .routing import Route, RouteTable, Routing
from .service import GraphService
from .writes import add_new_user

__all__ = ["JSON_TYPE", "GraphRequest", "GraphResult", "GraphService", "Route", "RouteTable", "Routing",
           "add_new_user", "complete_error"]
