"""The tenant's directory-wide objects in the simulated Graph: ``/domains``, ``/organization`` and organizational
contacts (``/contacts``).
"""

from __future__ import annotations

import copy

from ..odata import not_found, parse_select, project
from .messages import GraphRequest, GraphResult, check_top
from .paging import context_for
from .routing import RouteTable
from .service import GraphService

__all__ = ["ROUTES"]

ROUTES = RouteTable(permissions={
    "contacts.read": frozenset({"OrgContact.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
})
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it


# --- domains, organization -----------------------------------------------------------------------------------------

@route("GET", r"/domains", "domains.read")
def list_domains(svc: GraphService, req: GraphRequest) -> GraphResult:
    return GraphResult(200, {"@odata.context": svc.context(req, "domains"),
                             "value": copy.deepcopy(req.tenant.domain_objects)})


@route("GET", r"/domains/(?P<name>[^/]+)", "domains.read")
def get_domain(svc: GraphService, req: GraphRequest, name: str) -> GraphResult:
    for d in req.tenant.domain_objects:
        if d["id"] == name.lower():
            out = {"@odata.context": svc.context(req, "domains/$entity")}
            out.update(copy.deepcopy(d))
            return GraphResult(200, out)
    raise not_found(name)


@route("GET", r"/organization", "org.read")
def list_organization(svc: GraphService, req: GraphRequest) -> GraphResult:
    return GraphResult(200, {"@odata.context": svc.context(req, "organization"),
                             "value": [copy.deepcopy(req.tenant.organization)]})


@route("GET", r"/organization/(?P<oid>[^/]+)", "org.read")
def get_organization(svc: GraphService, req: GraphRequest, oid: str) -> GraphResult:
    if oid.lower() != req.tenant.tenant_id:
        raise not_found(oid)
    out = {"@odata.context": svc.context(req, "organization/$entity")}
    out.update(copy.deepcopy(req.tenant.organization))
    return GraphResult(200, out)


# --- contacts ------------------------------------------------------------------------------------------------------


_CONTACT_DEFAULT = ["id", "deletedDateTime", "companyName", "department", "displayName", "givenName", "jobTitle",
                    "mail", "mailNickname", "surname", "onPremisesSyncEnabled", "proxyAddresses", "addresses",
                    "phones", "onPremisesProvisioningErrors", "serviceProvisioningErrors"]
_CONTACT_COLLECTIONS = {"proxyAddresses", "addresses", "phones", "onPremisesProvisioningErrors",
                        "serviceProvisioningErrors"}


@route("GET", r"/contacts", "contacts.read")
def list_contacts(svc: GraphService, req: GraphRequest) -> GraphResult:
    """orgcontact-list: organizational contacts (mail-enabled; they hold addresses invitations may collide
    with). Permissions: OrgContact.Read.All (least), Directory.Read.All."""
    top = check_top(req, svc.page_size)
    select = parse_select(req.query, set(_CONTACT_DEFAULT), "microsoft.graph.orgContact")
    tenant = req.tenant
    with tenant.lock:
        return svc.page(req, list(tenant.contacts),
                        lambda i: project(tenant.contacts[i], select or _CONTACT_DEFAULT, _CONTACT_COLLECTIONS)
                        if i in tenant.contacts else None,
                        svc.context(req, context_for("contacts", select)), top)
