"""Invitations in the simulated Graph: ``POST /invitations`` creates (or finds again) the invited user at once
(graph-facts 9.1), unless the inviting tenant's authorization or cross-tenant access policies refuse it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from urllib.parse import quote

from ..odata import GraphFault, bad_request
from ..state import now_iso
from .messages import GraphRequest, GraphResult, body_object
from .routing import RouteTable
from .service import GraphService
from .writes import add_new_user

__all__ = ["ROUTES"]

ROUTES = RouteTable()
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it


_EMAIL = re.compile(r"^[A-Za-z0-9._\-']+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+$")


# Entra's wording for these refusals; Microsoft documents neither the HTTP status nor the error code of
# POST /invitations when a policy blocks it (invitation-post.md lists none). The messages are the ones Entra
# shows (provisioning logs and Microsoft 365 surface the same texts); 403 is what admins report from Graph.
_INVITES_NOT_ALLOWED = ("Guest invitations not allowed for your company. Contact your company administrator for "
                        "more details.")
_BLOCKED_BY_CTAP = "This invitation is blocked by cross-tenant access settings."


def _check_invitation_policies(svc: GraphService, req: GraphRequest, email: str) -> None:
    """Refuse an invitation the inviting tenant's policies forbid (docs/direct-engine.md, "Prerequisites").

    * authorizationPolicy.allowInvitesFrom: ``none`` blocks every invitation; an app-only caller is also
      refused when invitations are restricted to admins and guest inviters (invitation-post.md: app-only
      invitations fail when B2B invitations are disabled or restricted to admins).
    * Across clouds (cross-cloud-settings.md): the inviting tenant must allow the invitee's cloud and have a
      partner entry for the invitee's home tenant that allows inbound B2B collaboration; the home tenant must
      allow the inviting tenant's cloud (and not block outbound B2B to it). Same cloud: the partner entry, else
      the default, decides inbound.
    """
    tenant = req.tenant
    policy = getattr(tenant, "cross_tenant", None)
    if policy is None:
        return
    allow = str(policy.authorization.get("allowInvitesFrom") or "everyone")
    if allow == "none" or allow == "adminsAndGuestInviters":
        # Every caller of this simulated Graph is an app (client credentials): app-only.
        raise GraphFault(403, "Authorization_RequestDenied", _INVITES_NOT_ALLOWED)
    directory = getattr(svc, "directory", None)
    if directory is None:
        return
    domain = email.rsplit("@", 1)[-1].lower()
    home = next((t for t in directory.tenants.values()
                 if t is not tenant and domain in t.verified_domains()), None)
    if home is None or getattr(home, "cross_tenant", None) is None:
        return                       # a consumer address or a tenant this simulator does not hold
    home_endpoint = home.cross_tenant.own_cloud_endpoint
    our_endpoint = policy.own_cloud_endpoint
    inbound = policy.b2b_collaboration_allowed(home.tenant_id, home_endpoint, "inbound")
    if home_endpoint != our_endpoint:
        outbound = home.cross_tenant.allows_cloud(our_endpoint) and (
            home.cross_tenant.partner(tenant.tenant_id) is None
            or home.cross_tenant.b2b_collaboration_allowed(tenant.tenant_id, our_endpoint, "outbound"))
    else:
        outbound = home.cross_tenant.b2b_collaboration_allowed(tenant.tenant_id, our_endpoint, "outbound")
    if not (inbound and outbound):
        raise GraphFault(403, "Authorization_RequestDenied", _BLOCKED_BY_CTAP)


@route("POST", r"/invitations", "invite")
def create_invitation(svc: GraphService, req: GraphRequest) -> GraphResult:
    """graph-facts 9.1: the guest/member user exists as soon as the invitation is created."""
    body = body_object(req)
    email = body.get("invitedUserEmailAddress")
    redirect = body.get("inviteRedirectUrl")
    if not isinstance(email, str) or not email:
        raise bad_request("Invalid value specified for property 'invitedUserEmailAddress' of resource 'Invitation'.",
                          "BadRequest")
    if not isinstance(redirect, str) or not redirect:
        raise bad_request("Invalid value specified for property 'inviteRedirectUrl' of resource 'Invitation'.",
                          "BadRequest")
    if not _EMAIL.match(email) or email[0] in ".-" or email.split("@")[0][-1] in ".-":
        # characters forbidden per invitation-post.md; the exact message is not documented
        raise bad_request(f"The specified email address '{email}' is invalid.", "BadRequest")
    user_type = body.get("invitedUserType") or "Guest"
    if user_type not in ("Guest", "Member"):
        raise bad_request("Invalid value specified for property 'invitedUserType' of resource 'Invitation'.",
                          "BadRequest")
    tenant = req.tenant
    with tenant.lock:
        _check_invitation_policies(svc, req, email)
        want = email.lower()
        existing = next((u for u in tenant.users.values() if u.get("creationType") == "Invitation" and (
            str(u.get("mail") or "").lower() == want or want in [str(m).lower() for m in u.get("otherMails") or []])),
                        None)
        holder = tenant.address_owner(email) if existing is None else None
        if existing is not None:
            user = existing          # re-inviting returns the same user object (invitation-post.md)
        else:
            uid = str(uuid.uuid4())
            local = email.replace("@", "_")
            user = {"id": uid, "userPrincipalName": f"{local}#EXT#@{tenant.initial_domain}",
                    "displayName": body.get("invitedUserDisplayName") or email.split("@")[0],
                    "mail": email, "mailNickname": f"{local}#EXT#", "otherMails": [email],
                    "accountEnabled": True, "userType": user_type, "creationType": "Invitation",
                    "externalUserState": "PendingAcceptance", "externalUserStateChangeDateTime": now_iso(),
                    "businessPhones": [], "createdDateTime": now_iso(),
                    "proxyAddresses": [f"SMTP:{email}"],
                    "identities": [{"signInType": "userPrincipalName", "issuer": tenant.initial_domain,
                                    "issuerAssignedId": f"{local}#EXT#@{tenant.initial_domain}"}]}
            if holder is not None:
                # Another object already holds the address: Entra creates the user without mail or proxy
                # addresses and keeps the invited address in otherMails only (docs/direct-engine.md).
                user["mail"], user["proxyAddresses"] = None, []
            add_new_user(svc, tenant, user)
            tenant.add_audit(activity="Add user", category="UserManagement", operation="Add", app=req.app,
                             target=user, target_type="User",
                             modified=[("userType", None, user_type), ("userPrincipalName", None,
                                                                       user["userPrincipalName"])])
            tenant.add_audit(activity="Invite external user", category="UserManagement", operation="Add",
                             app=req.app, target=user, target_type="User", service="Invited Users",
                             modified=[("InvitedUserEmailAddress", None, email)])
        invitation_id = str(uuid.uuid4())
        ticket = secrets.token_urlsafe(24)
        redeem = (f"{req.base_url}/redeem?rd=" + quote(
            f"https://invitations.microsoft.com/redeem/?tenant={tenant.tenant_id}&user={invitation_id}"
            f"&ticket={ticket}&ver=2.0", safe=""))
        info = body.get("invitedUserMessageInfo") or {}
        out = {"@odata.context": svc.context(req, "invitations/$entity"), "id": invitation_id,
               "inviteRedeemUrl": redeem, "invitedUserDisplayName": body.get("invitedUserDisplayName"),
               "invitedUserType": user_type, "invitedUserEmailAddress": email,
               "sendInvitationMessage": bool(body.get("sendInvitationMessage", False)),
               "resetRedemption": bool(body.get("resetRedemption", False)), "inviteRedirectUrl": redirect,
               "status": "Completed" if user.get("externalUserState") == "Accepted" else "PendingAcceptance",
               "invitedUserMessageInfo": {
                   "messageLanguage": info.get("messageLanguage"),
                   "customizedMessageBody": info.get("customizedMessageBody"),
                   "ccRecipients": info.get("ccRecipients") or [{"emailAddress": {"name": None, "address": None}}]},
               "invitedUser": {"id": user["id"]}}
        return GraphResult(201, out)
