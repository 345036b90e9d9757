"""What each plan operation sends to Graph, and how to tell whether the target still looks as planned.

Operations come from a ``SyncPlan`` (its actionable rows); each one becomes one or two *steps*:

* ``create`` (invite mode): ``POST /invitations`` (no mail, user type Member, by the source UPN: cross-cloud
  invitations go by UPN; redirect to the target cloud's My Apps), then the ``finish`` step: ``PATCH /users/{id}``
  with the durable link alone, then ``PATCH`` with the mapped attributes, then ``assignLicense`` and group
  ``$ref`` additions, chained with ``dependsOn`` (docs/direct-engine.md);
* ``create`` (member mode): ``POST /users`` with every attribute, the link and a random first password that
  must be changed at first sign-in; then ``finish`` for licences and groups (when the plan asks for any);
* a create whose plan names a manager (migrations) ends with ``PUT /users/{id}/manager/$ref`` once the
  manager exists too: ``managers.py``;
* ``restore``: ``POST /directory/deletedItems/{id}/restore`` (a create whose linked user sits in the deleted
  items is restored instead of created twice), then ``finish`` like a create;
* ``update`` / ``disable``: ``PATCH /users/{id}`` with only the changed attributes;
* ``delete``: ``DELETE /users/{id}`` (a soft delete: restorable for 30 days).

Values in a plan are text (booleans ``"true"``/``"false"``); ``graph_value`` turns them back into JSON, and
``text_of`` turns what Graph returns into the plan's text form, so a planned 'before' can be compared with
the target's current state.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from urllib.parse import quote

import pandas as pd

from ..graph import BatchRequest
from ..plan.rules import BOOLEAN_TARGETS

__all__ = ["Operation", "operations_from_plan", "graph_value", "text_of", "user_patch_body", "invitation_body",
           "new_user_body", "finish_requests", "first_request", "stale_reason", "select_for", "link_filter_url",
           "lookup_url", "address_lookup_url", "EXT_PREFIX", "INVITE_REDIRECT_URL", "KINDS"]

EXT_PREFIX = "onPremisesExtensionAttributes."
INVITE_REDIRECT_URL = "https://myapps.microsoft.com"
KINDS = ("create", "restore", "update", "disable", "delete")
_LICENSE = "@assignLicense"
_GROUP = "@addToGroup"


@dataclass
class Operation:
    """One actionable plan operation, with its changes split by what Graph call carries them."""

    op_id: str
    kind: str
    source_id: str | None
    source_upn: str | None
    source_mail: str | None
    target_id: str | None
    target_upn: str | None
    attrs: dict[str, Any] = field(default_factory=dict)      # attribute -> planned new value (text)
    before: dict[str, Any] = field(default_factory=dict)     # attribute -> planned old value (text or None)
    licenses: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    link: str | None = None                                  # the durable link value this op writes or expects
    adopt: bool = False                                      # takes over an unlinked user (the plan's opt-in)
    # Per-operation settings from other '@' change attributes (migrations: '@createAs', '@invitedUserType' ...).
    extra: dict[str, str] = field(default_factory=dict)
    # A migration's password, attached at apply time by secrets_source (never read from or written to a plan).
    password: str | None = field(default=None, repr=False)

    def create_as(self, default: str) -> str:
        """How this create is carried out: its own '@createAs' (migrations mix both), else the plan's."""
        return self.extra.get("createAs") or default

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self.attrs)

    def to_dict(self) -> dict[str, Any]:
        return {"opId": self.op_id, "kind": self.kind, "sourceUpn": self.source_upn, "targetId": self.target_id,
                "targetUpn": self.target_upn, "attributes": sorted(self.attrs), "licenses": list(self.licenses),
                "groups": list(self.groups)}


def _none(v: Any) -> Any:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def operations_from_plan(plan: Any) -> list[Operation]:
    """The plan's actionable operations (create/update/disable/delete, not held), in plan order."""
    header = plan.header
    link_attr = header["options"]["linkAttribute"]
    source_tid = header["source"]["tenantId"]
    by_op: dict[str, list[tuple[str, Any, Any]]] = {}
    ch = plan.changes
    if len(ch):
        for op_id, attr, old, new in zip(ch["opId"], ch["attribute"], ch["oldValue"], ch["newValue"]):
            by_op.setdefault(op_id, []).append((attr, _none(old), _none(new)))
    out: list[Operation] = []
    adopted = plan.adopted_ops() if hasattr(plan, "adopted_ops") else frozenset()
    for row in plan.actionable.itertuples(index=False):
        op = Operation(row.opId, row.kind, _none(row.sourceId), _none(row.sourceUpn), _none(row.sourceMail),
                       _none(row.targetId), _none(row.targetUpn))
        for attr, old, new in by_op.get(row.opId, []):
            if attr == _LICENSE:
                op.licenses.append(str(new))
            elif attr == _GROUP:
                op.groups.append(str(new))
            elif attr.startswith("@"):
                op.extra[attr[1:]] = str(new)
            else:
                op.attrs[attr] = new
                op.before[attr] = old
        op.adopt = row.opId in adopted
        if op.source_id:
            op.link = f"ccsync:{source_tid}:{op.source_id}"
        if op.kind == "delete":
            op.before[EXT_PREFIX + link_attr] = op.link
        out.append(op)
    return out


def graph_value(attribute: str, text: Any) -> Any:
    """A plan value (text) as the JSON value Graph takes for ``attribute``."""
    if text is None:
        return None
    if attribute in BOOLEAN_TARGETS:
        return str(text).lower() == "true"
    if attribute == "businessPhones":                 # a collection in Graph; a plan holds the one number
        return [text]
    return text


def text_of(value: Any) -> Any:
    """A value Graph returned, in the plan's text form (booleans true/false, null None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def user_patch_body(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Graph's JSON for a user write: extension attributes nested under onPremisesExtensionAttributes."""
    body: dict[str, Any] = {}
    for attr, text in attrs.items():
        if attr.startswith(EXT_PREFIX):
            body.setdefault("onPremisesExtensionAttributes", {})[attr[len(EXT_PREFIX):]] = text
        else:
            body[attr] = graph_value(attr, text)
    return body


def invitation_body(op: Operation, redirect_url: str = INVITE_REDIRECT_URL) -> dict[str, Any]:
    """``POST /invitations``: a B2B *member*, no invitation mail, invited by the source UPN.

    ``redirect_url``: where the user lands after redeeming: the target cloud's My Apps (``Cloud.my_apps_url``).
    A migration row may name its own redirect, invitation mail, user type and message (``op.extra``).
    """
    body: dict[str, Any] = {"invitedUserEmailAddress": op.source_upn,
                            "inviteRedirectUrl": op.extra.get("inviteRedirectUrl") or redirect_url,
                            "sendInvitationMessage": op.extra.get("sendInvitationMessage") == "true",
                            "invitedUserType": op.extra.get("invitedUserType") or "Member"}
    if op.extra.get("invitedUserMessage"):
        body["invitedUserMessageInfo"] = {"customizedMessageBody": op.extra["invitedUserMessage"]}
    if op.attrs.get("displayName"):
        body["invitedUserDisplayName"] = op.attrs["displayName"]
    return body


def _password(length: int = 24) -> str:
    # Entra's complexity rule: three of upper, lower, digit, symbol. The user must change it at first sign-in.
    alphabet = string.ascii_letters + string.digits + "!#%*-_=+"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw)
                and any(c in "!#%*-_=+" for c in pw)):
            return pw


def new_user_body(op: Operation) -> dict[str, Any]:
    """``POST /users`` (in-tenant migration): every mapped attribute, the link and a one-time password."""
    body = user_patch_body(op.attrs)
    body.setdefault("accountEnabled", True)
    body["passwordProfile"] = {"password": op.password or _password(),
                               "forceChangePasswordNextSignIn": op.extra.get("forceChangePasswordNextSignIn") != "false"}
    return body


def first_request(op: Operation, req_id: str, create_as: str, graph_root: str, *,
                  redirect_url: str = INVITE_REDIRECT_URL, reconcile_proxies: bool = False) -> BatchRequest:
    """The request of an operation's first step (for creates: the create itself).

    ``reconcile_proxies``: restore with ``autoReconcileProxyConflict`` (the admin's opt-in): Entra drops the
    restored user's proxy addresses that another object now holds instead of refusing the restore.
    """
    if op.kind == "create":
        if op.create_as(create_as) == "invite":
            return BatchRequest(req_id, "POST", "/invitations", invitation_body(op, redirect_url))
        return BatchRequest(req_id, "POST", "/users", new_user_body(op))
    if op.kind == "restore":
        body = {"autoReconcileProxyConflict": True} if reconcile_proxies else None
        return BatchRequest(req_id, "POST", f"/directory/deletedItems/{op.target_id}/restore", body)
    if op.kind in ("update", "disable"):
        return BatchRequest(req_id, "PATCH", f"/users/{op.target_id}", user_patch_body(op.attrs))
    if op.kind == "delete":
        return BatchRequest(req_id, "DELETE", f"/users/{op.target_id}")
    raise ValueError(f"operation {op.op_id} has kind {op.kind!r}, which apply does not carry out")


def finish_requests(op: Operation, target_id: str, prefix: str, create_as: str, graph_root: str,
                    *, restored: bool = False) -> list[BatchRequest]:
    """After a create/restore: attributes (+ link), then licences, then groups, one dependsOn chain.

    ``prefix`` makes the ids unique within a batch. Empty when nothing is left to do.
    """
    chain: list[BatchRequest] = []
    attrs = dict(op.attrs)
    if op.create_as(create_as) == "member" and not restored:
        attrs = {}                                    # POST /users carried them all
    # ccsync's link goes first, in its own PATCH: an optional attribute Graph refuses (showInAddressList is not
    # writable for many users) must not leave a created user without the link that lets ccsync find it again.
    link = {a: v for a, v in attrs.items() if a.startswith(EXT_PREFIX) and op.link is not None and v == op.link}
    rest = {a: v for a, v in attrs.items() if a not in link}
    if link:
        chain.append(BatchRequest(f"{prefix}.k", "PATCH", f"/users/{target_id}", user_patch_body(link)))
    if rest:
        chain.append(BatchRequest(f"{prefix}.p", "PATCH", f"/users/{target_id}", user_patch_body(rest)))
    for i, sku in enumerate(op.licenses):
        chain.append(BatchRequest(f"{prefix}.l{i}", "POST", f"/users/{target_id}/assignLicense",
                                  {"addLicenses": [{"skuId": sku, "disabledPlans": []}], "removeLicenses": []}))
    for i, gid in enumerate(op.groups):
        chain.append(BatchRequest(f"{prefix}.g{i}", "POST", f"/groups/{gid}/members/$ref",
                                  {"@odata.id": f"{graph_root}/directoryObjects/{target_id}"}))
    linked = [BatchRequest(r.id, r.method, r.url, r.body, r.headers, (chain[i - 1].id,) if i else ())
              for i, r in enumerate(chain)]
    return linked


def select_for(op: Operation) -> list[str]:
    """Properties to read to check an operation's 'before' state, and the link the write-time guard checks."""
    props = {"id", "userPrincipalName", "onPremisesExtensionAttributes"}
    for attr in op.before:
        props.add("onPremisesExtensionAttributes" if attr.startswith(EXT_PREFIX) else attr)
    return sorted(props)


def current_text(user: Mapping[str, Any], attribute: str) -> Any:
    if attribute.startswith(EXT_PREFIX):
        ext = user.get("onPremisesExtensionAttributes") or {}
        return text_of(ext.get(attribute[len(EXT_PREFIX):]) if isinstance(ext, Mapping) else None)
    return text_of(user.get(attribute))


def stale_reason(op: Operation, user: Mapping[str, Any] | None, *, allow_done: bool = False) -> str | None:
    """Why the target no longer matches the plan's 'before' state (None when it still does).

    ``allow_done``: an attribute that already holds the planned new value is fine (an update whose outcome was
    unknown may have been carried out before an interruption).
    """
    if user is None:
        return "the target user no longer exists"
    diffs = []
    for attr, old in op.before.items():
        now = current_text(user, attr)
        if now == old:
            continue
        if allow_done and attr in op.attrs and now == op.attrs[attr]:
            continue
        diffs.append(f"{attr} is {now!r}, the plan expected {old!r}")
    if diffs:
        return "the target changed after planning: " + "; ".join(diffs)
    return None


def is_done(op: Operation, user: Mapping[str, Any]) -> bool:
    """True when every attribute of an update already holds its planned value."""
    return all(current_text(user, a) == v for a, v in op.attrs.items())


def _odata_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def lookup_url(prop: str, value: str, select: Iterable[str]) -> str:
    """A ``/users`` $filter URL (advanced query: $count=true; send ConsistencyLevel: eventual)."""
    flt = quote(f"{prop} eq {_odata_text(value)}", safe="/'()$,=:@")
    return f"/users?$filter={flt}&$count=true&$select={','.join(select)}"


def address_lookup_url(address: str, select: Iterable[str]) -> str:
    """Invited users by the address they were invited at: ``mail``, or ``otherMails`` when another object held
    it. A default (not advanced) query: it reads what was just written, unlike the lagging advanced index."""
    lit = _odata_text(address)
    flt = quote(f"mail eq {lit} or otherMails/any(m:m eq {lit})", safe="/'()$,=:@")
    return f"/users?$filter={flt}&$select={','.join(select)}"


def link_filter_url(link_attribute: str, link: str, select: Iterable[str]) -> str:
    """Look a user up by the durable link ccsync wrote in its extension attribute."""
    return lookup_url(f"onPremisesExtensionAttributes/{link_attribute}", link, select)
