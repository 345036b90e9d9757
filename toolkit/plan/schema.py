"""The plan file's schema: what ``ccsync apply`` accepts from a file that may have been edited by anyone.

The integrity hash only proves that the file was not changed *since someone recomputed it*; it is no defence
against an edit. So every plan is validated before anything else looks at it, whatever its hash says:

* the document is a JSON object of ``format`` ``ccsync-plan/1`` with the header objects the planner writes;
* ``operations`` is a list of objects with exactly the known keys; ``opId`` a short identifier, unique;
  ``kind`` one of the planner's kinds; ``held`` and (issue 10's) ``adopt`` booleans (``adopt`` may be absent);
* user and tenant ids are plain identifiers (letters, digits, ``-``, ``_``, ``.``): they are put into Graph URLs,
  so nothing else is allowed;
* ``changes`` are objects whose ``attribute`` is on the allow-list (``toolkit.plan.rules.is_writable_target``;
  a create may also set ``mail``, as POST /users does for a migration's members), whose values are text within
  Graph's length limits, and whose ``flow`` is ``always`` or ``once``;
* the special ``@`` attributes, only on creates, each with its own values (``_SPECIAL``): ``@assignLicense`` /
  ``@addToGroup`` / ``@manager`` GUIDs; a migration's ``@createAs``, ``@invitedUserType``, ``@password``
  (``file`` | ``generated``: never the password itself), ``@inviteRedirectUrl`` (an http(s) URL),
  ``@sendInvitationMessage`` / ``@forceChangePasswordNextSignIn`` booleans as text, ``@invitedUserMessage``
  text, ``@managerOp`` the id of another create in the same plan;
* ``adopt: true`` (taking over a user ccsync did not create) only on an update or disable matched by mail or
  UPN in a plan made with ``--adopt`` (``options.adopt``), which is the only place the planner puts it;
* per kind: a create names its source user, an update/disable/delete its target user, a disable only turns
  ``accountEnabled`` off, a delete changes nothing.

Source user ids are not put into URLs (only target ids are), so besides object ids they may be the addresses a
CSV migration uses as its source key (``toolkit/migrate/convert.py``): no spaces or control characters.

An entra-engine plan (``engine: entra``, toolkit/plan/entra_predict.py) predicts what Entra's own job will write;
ccsync never sends its operations. What ccsync does send are the plan's ``scopeChanges`` (group assignments and
direct-member changes in the source tenant), so those are checked strictly: a known ``action``, GUIDs for the
group and user ids (they go into Graph URLs), a ``changeId`` identifier; and the job id (also in URLs) an
identifier. Its operations are checked for shape (known keys, its own kinds, unique ids, text within limits);
their attributes are the job schema's target attributes, not ccsync's allow-list.

Errors are ``InputError`` naming the file, the operation id (as the row) and the field.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError
from .rules import TARGET_LIMITS, is_writable_target

__all__ = ["validate_plan_document", "PLAN_FORMAT", "MAX_TEXT", "ID_PATTERN"]

PLAN_FORMAT = "ccsync-plan/1"
MAX_TEXT = 1024                     # any other text value (reasons, names); Graph's longest user string is 1024
MAX_OPERATIONS = 2_000_000
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KINDS = ("create", "update", "disable", "delete", "conflict", "blocked")
_OP_KEYS = {"opId", "kind", "held", "adopt", "source", "target", "matchedBy", "reason", "changes"}
_REQUIRED_OP_KEYS = _OP_KEYS - {"adopt"}
_CHANGE_KEYS = {"attribute", "old", "new", "flow"}
_SOURCE_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,256}$")      # an object id or a migration's address key
_BOOL_TEXT = ("true", "false")
# The special '@' attributes (never user properties): which values each takes. Only creates carry them.
_SPECIAL: dict[str, Any] = {
    "@assignLicense": _GUID, "@addToGroup": _GUID, "@manager": _GUID,
    "@createAs": ("member", "invite"), "@invitedUserType": ("Member", "Guest"), "@password": ("file", "generated"),
    "@sendInvitationMessage": _BOOL_TEXT, "@forceChangePasswordNextSignIn": _BOOL_TEXT,
    "@inviteRedirectUrl": re.compile(r"^https?://[^\s]{1,2040}$"), "@invitedUserMessage": None,  # any text
    "@managerOp": ID_PATTERN,
}
_REPEATABLE = {"@assignLicense", "@addToGroup"}
# entra-engine plans (predictions of Entra's job): their kinds, extra per-operation fields and scope changes.
_ENTRA_KINDS = ("create", "update", "disable", "delete", "skip", "fail", "unknown")
_ENTRA_OP_KEYS = _OP_KEYS | {"cannotPredict", "licence"}
_SCOPE_ACTIONS = ("assignGroup", "unassignGroup", "addMember", "removeMember")
_SCOPE_KEYS = {"changeId", "action", "groupId", "groupName", "userId", "userPrincipalName"}
_HINT = "Plan files must not be edited: make a new plan with 'ccsync plan'."


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, *, op: str | None = None, field: str | None = None) -> None:
        where = f"operation {op}: " if op else ""
        raise InputError(f"{where}{message}", source=self.source, field=field, hint=_HINT)

    def text(self, value: Any, field: str, *, op: str | None = None, limit: int = MAX_TEXT,
             nullable: bool = True) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str):
            self.fail(f"'{field}' must be text, not {type(value).__name__}", op=op, field=field)
        if len(value) > limit:
            self.fail(f"'{field}' is {len(value)} characters, more than the {limit} allowed", op=op, field=field)

    def ident(self, value: Any, field: str, *, op: str | None = None, nullable: bool = True) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.fail(f"'{field}' must be an object id (letters, digits, '-', '_', '.'), got {_short(value)}",
                      op=op, field=field)

    def obj(self, value: Any, field: str, *, op: str | None = None) -> dict:
        if not isinstance(value, dict):
            self.fail(f"'{field}' must be a JSON object, not {type(value).__name__}", op=op, field=field)
        return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_plan_document(document: Any, source: str = "<plan>") -> None:
    """Raise InputError (naming ``source``, the operation id and the field) unless ``document`` is a valid plan."""
    c = _Checker(source)
    if not isinstance(document, dict):
        raise InputError(f"not a ccsync plan: the file holds a JSON {type(document).__name__}, not an object",
                         source=source, hint="Create one with 'ccsync plan'.")
    if document.get("format") != PLAN_FORMAT:
        raise InputError(f"not a ccsync plan (format {_short(document.get('format'))})", source=source,
                         hint="Create one with 'ccsync plan'.")
    if document.get("engine") == "entra":
        _validate_entra(c, document)
        return
    _header(c, document)
    ops = document.get("operations")
    if not isinstance(ops, list):
        c.fail("'operations' must be a list", field="operations")
    if len(ops) > MAX_OPERATIONS:
        c.fail(f"{len(ops)} operations is more than the {MAX_OPERATIONS} a plan may hold", field="operations")
    seen: set[str] = set()
    creates: set[str] = set()
    manager_ops: list[tuple[str, str]] = []       # (op id, the create it names as manager)
    adopt_allowed = document["options"].get("adopt") is True
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            c.fail(f"operation #{i + 1} must be a JSON object, not {type(op).__name__}", field="operations")
        op_id = op.get("opId")
        if not isinstance(op_id, str) or not ID_PATTERN.match(op_id):
            c.fail(f"operation #{i + 1} has no valid 'opId' (got {_short(op_id)})", field="opId")
        if op_id in seen:
            c.fail("the operation id appears more than once", op=op_id, field="opId")
        seen.add(op_id)
        _operation(c, op, op_id)
        if op["kind"] == "create":
            creates.add(op_id)
        manager_ops += [(op_id, ch["new"]) for ch in op["changes"] if ch["attribute"] == "@managerOp"]
        if op.get("adopt") is True and not adopt_allowed:
            c.fail("'adopt' is true, but the plan was not made with --adopt (options.adopt)", op=op_id,
                   field="adopt")
    for op_id, manager in manager_ops:
        if manager not in creates or manager == op_id:
            c.fail(f"'@managerOp' names {_short(manager)}, which is not another create of this plan", op=op_id,
                   field="changes.@managerOp")


def _header(c: _Checker, doc: dict) -> None:
    for side in ("source", "target"):
        tenant = c.obj(doc.get(side), side)
        c.ident(tenant.get("tenantId"), f"{side}.tenantId", nullable=False)
        c.text(tenant.get("cloud"), f"{side}.cloud", nullable=False, limit=32)
        c.text(tenant.get("displayName"), f"{side}.displayName", limit=256)
    options = c.obj(doc.get("options"), "options")
    link = options.get("linkAttribute")
    if not isinstance(link, str) or not re.fullmatch(r"extensionAttribute(?:[1-9]|1[0-5])", link):
        c.fail(f"'options.linkAttribute' must be extensionAttribute1..15, got {_short(link)}",
               field="options.linkAttribute")
    if options.get("createAs") not in ("invite", "member", "mixed"):
        c.fail("'options.createAs' must be 'invite', 'member' or 'mixed'", field="options.createAs")
    if not isinstance(options.get("adopt", False), bool):
        c.fail(f"'options.adopt' must be true or false, not {_short(options.get('adopt'))}", field="options.adopt")
    threshold = options.get("deletionThreshold")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
        c.fail("'options.deletionThreshold' must be a whole number", field="options.deletionThreshold")
    for key in ("targetLicenses", "targetGroups"):
        values = options.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and _GUID.match(v) for v in values):
            c.fail(f"'options.{key}' must be a list of GUIDs", field=f"options.{key}")
    c.obj(doc.get("pair"), "pair")


def _operation(c: _Checker, op: dict, op_id: str) -> None:
    unknown = sorted(set(op) - _OP_KEYS)
    if unknown:
        c.fail(f"unknown field(s) {', '.join(unknown)}", op=op_id, field=unknown[0])
    missing = sorted(_REQUIRED_OP_KEYS - set(op))
    if missing:
        c.fail(f"missing field(s) {', '.join(missing)}", op=op_id, field=missing[0])
    kind = op["kind"]
    if kind not in _KINDS:
        c.fail(f"unknown operation kind {_short(kind)} (known: {', '.join(_KINDS)})", op=op_id, field="kind")
    for flag in ("held", "adopt"):
        if flag in op and not isinstance(op[flag], bool):
            c.fail(f"'{flag}' must be true or false, not {_short(op[flag])}", op=op_id, field=flag)
    src = c.obj(op["source"], "source", op=op_id)
    tgt = c.obj(op["target"], "target", op=op_id)
    if set(src) - {"id", "userPrincipalName", "mail"} or set(tgt) - {"id", "userPrincipalName"}:
        c.fail("unknown field(s) in 'source' or 'target'", op=op_id, field="source")
    if src.get("id") is not None and not (isinstance(src["id"], str) and _SOURCE_ID.match(src["id"])):
        c.fail(f"'source.id' must be an object id or an address without spaces, got {_short(src['id'])}",
               op=op_id, field="source.id")
    c.text(src.get("userPrincipalName"), "source.userPrincipalName", op=op_id, limit=TARGET_LIMITS["mail"])
    c.text(src.get("mail"), "source.mail", op=op_id, limit=TARGET_LIMITS["mail"])
    c.ident(tgt.get("id"), "target.id", op=op_id)
    c.text(tgt.get("userPrincipalName"), "target.userPrincipalName", op=op_id, limit=TARGET_LIMITS["mail"])
    if op["matchedBy"] not in (None, "link", "mail", "upn"):
        c.fail(f"'matchedBy' must be link, mail, upn or null, got {_short(op['matchedBy'])}", op=op_id,
               field="matchedBy")
    c.text(op["reason"], "reason", op=op_id, limit=64 * MAX_TEXT)     # conflicts may list many users
    if op.get("adopt") is True and (kind not in ("update", "disable") or op["matchedBy"] not in ("mail", "upn")):
        c.fail("only an update or disable of a user matched by mail or UPN can adopt it", op=op_id, field="adopt")
    if kind == "create" and not src.get("id"):
        c.fail("a create must name its source user ('source.id')", op=op_id, field="source.id")
    if kind in ("update", "disable", "delete") and not tgt.get("id"):
        c.fail(f"an {kind} must name its target user ('target.id')", op=op_id, field="target.id")
    if kind == "delete" and not src.get("id"):
        c.fail("a delete must name the source user its target was linked to ('source.id')", op=op_id,
               field="source.id")
    changes = op["changes"]
    if not isinstance(changes, list):
        c.fail("'changes' must be a list", op=op_id, field="changes")
    attributes: set[str] = set()
    for ch in changes:
        _change(c, ch, op_id, kind, attributes)
    if kind == "delete" and changes:
        c.fail("a delete carries no attribute changes", op=op_id, field="changes")
    if kind == "disable":
        off = [ch for ch in changes if ch["attribute"] == "accountEnabled" and ch["new"] == "false"]
        if not off:
            c.fail("a disable must set accountEnabled to false", op=op_id, field="changes")


def _change(c: _Checker, ch: Any, op_id: str, kind: str, seen: set[str]) -> None:
    if not isinstance(ch, dict) or set(ch) != _CHANGE_KEYS:
        c.fail(f"each change must be an object with exactly {', '.join(sorted(_CHANGE_KEYS))}", op=op_id,
               field="changes")
    attr = ch["attribute"]
    if not isinstance(attr, str) or not (attr in _SPECIAL or is_writable_target(attr, create=kind == "create")):
        c.fail(f"attribute {_short(attr)} is not one ccsync writes", op=op_id, field="changes.attribute")
    if attr in seen and attr not in _REPEATABLE:
        c.fail(f"attribute {attr} is changed twice", op=op_id, field="changes.attribute")
    seen.add(attr)
    # Microsoft's docs give no limit for an invitation's customizedMessageBody, and 'migrate validate' sets none:
    # a generous cap, so a migration plan is never refused for a long message yet no value is unbounded.
    limit = 16 * MAX_TEXT if attr == "@invitedUserMessage" else TARGET_LIMITS.get(attr, MAX_TEXT)
    c.text(ch["old"], f"changes.{attr}.old", op=op_id, limit=max(limit, MAX_TEXT))
    c.text(ch["new"], f"changes.{attr}.new", op=op_id, limit=limit)
    if ch["flow"] not in ("always", "once"):
        c.fail(f"'flow' of {attr} must be always or once", op=op_id, field="changes.flow")
    if attr in _SPECIAL:
        allowed, new = _SPECIAL[attr], ch["new"]
        if kind != "create" or not isinstance(new, str):
            c.fail(f"{attr} is only for creates and takes text", op=op_id, field="changes.attribute")
        if isinstance(allowed, tuple) and new not in allowed:
            c.fail(f"{attr} must be one of {', '.join(allowed)}, got {_short(new)}", op=op_id, field="changes.attribute")
        if isinstance(allowed, re.Pattern) and not allowed.match(new):
            what = {"@managerOp": "an operation id", "@inviteRedirectUrl": "an http(s) URL"}.get(attr, "a GUID")
            c.fail(f"{attr} takes {what}, got {_short(new)}", op=op_id, field="changes.attribute")


def _validate_entra(c: _Checker, doc: dict) -> None:
    """An entra-engine plan: strict on what ccsync sends (scope changes, the job id), shape-checked elsewhere."""
    for side in ("source", "target"):
        tenant = c.obj(doc.get(side), side)
        c.ident(tenant.get("tenantId"), f"{side}.tenantId", nullable=False)
        c.text(tenant.get("cloud"), f"{side}.cloud", nullable=False, limit=32)
    threshold = c.obj(doc.get("options"), "options").get("deletionThreshold")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0):
        c.fail("'options.deletionThreshold' must be a whole number or null (no threshold)",
               field="options.deletionThreshold")
    job = c.obj(doc.get("job"), "job")
    c.ident(job.get("id"), "job.id", nullable=False)
    sha = c.obj(doc.get("schema"), "schema").get("sha256")
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        c.fail("'schema.sha256' must be the SHA-256 of the job's schema", field="schema.sha256")
    changes = doc.get("scopeChanges") or []
    if not isinstance(changes, list):
        c.fail("'scopeChanges' must be a list", field="scopeChanges")
    seen: set[str] = set()
    for i, ch in enumerate(changes):
        if not isinstance(ch, dict) or set(ch) - _SCOPE_KEYS:
            c.fail(f"scope change #{i + 1} must be an object with only {', '.join(sorted(_SCOPE_KEYS))}",
                   field="scopeChanges")
        change_id = ch.get("changeId")
        if not isinstance(change_id, str) or not ID_PATTERN.match(change_id) or change_id in seen:
            c.fail(f"scope change #{i + 1} needs a unique 'changeId' identifier, got {_short(change_id)}",
                   field="scopeChanges.changeId")
        seen.add(change_id)
        action = ch.get("action")
        if action not in _SCOPE_ACTIONS:
            c.fail(f"unknown scope change {_short(action)} (known: {', '.join(_SCOPE_ACTIONS)})", op=change_id,
                   field="scopeChanges.action")
        if not isinstance(ch.get("groupId"), str) or not _GUID.match(ch["groupId"]):
            c.fail(f"'groupId' must be a group's object id (GUID), got {_short(ch.get('groupId'))}", op=change_id,
                   field="scopeChanges.groupId")
        user = ch.get("userId")
        if action in ("addMember", "removeMember") and not (isinstance(user, str) and _GUID.match(user)):
            c.fail(f"'userId' must be a user's object id (GUID), got {_short(user)}", op=change_id,
                   field="scopeChanges.userId")
        c.text(ch.get("groupName"), "scopeChanges.groupName", op=change_id, limit=256)
        c.text(ch.get("userPrincipalName"), "scopeChanges.userPrincipalName", op=change_id,
               limit=TARGET_LIMITS["mail"])
    ops = doc.get("operations")
    if not isinstance(ops, list) or len(ops) > MAX_OPERATIONS:
        c.fail("'operations' must be a list of at most {MAX_OPERATIONS} operations", field="operations")
    ids: set[str] = set()
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            c.fail(f"operation #{i + 1} must be a JSON object, not {type(op).__name__}", field="operations")
        op_id = op.get("opId")
        if not isinstance(op_id, str) or not ID_PATTERN.match(op_id) or op_id in ids:
            c.fail(f"operation #{i + 1} needs a unique 'opId' identifier, got {_short(op_id)}", field="opId")
        ids.add(op_id)
        unknown = sorted(set(op) - _ENTRA_OP_KEYS)
        if unknown:
            c.fail(f"unknown field(s) {', '.join(unknown)}", op=op_id, field=unknown[0])
        if op.get("kind") not in _ENTRA_KINDS:
            c.fail(f"unknown operation kind {_short(op.get('kind'))} (known: {', '.join(_ENTRA_KINDS)})", op=op_id,
                   field="kind")
        if not isinstance(op.get("held", False), bool):
            c.fail(f"'held' must be true or false, not {_short(op.get('held'))}", op=op_id, field="held")
        for side in ("source", "target"):
            ref = c.obj(op.get(side) or {}, side, op=op_id)
            c.ident(ref.get("id"), f"{side}.id", op=op_id)
        for key in ("reason", "cannotPredict", "licence"):
            c.text(op.get(key), key, op=op_id, limit=64 * MAX_TEXT)
        if not isinstance(op.get("changes", []), list):
            c.fail("'changes' must be a list", op=op_id, field="changes")
        for ch in op.get("changes", []):
            if not isinstance(ch, dict) or set(ch) != _CHANGE_KEYS:
                c.fail(f"each change must be an object with exactly {', '.join(sorted(_CHANGE_KEYS))}", op=op_id,
                       field="changes")
            c.text(ch["attribute"], "changes.attribute", op=op_id, nullable=False, limit=256)
            for key in ("old", "new"):
                c.text(ch[key], f"changes.{ch['attribute']}.{key}", op=op_id, limit=16 * MAX_TEXT)
