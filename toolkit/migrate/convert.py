"""Valid migration rows -> the ``SyncPlan`` the direct engine executes (``ccsync apply``).

Every planned row is a ``create`` operation. Members (rows with a userPrincipalName) become ``POST /users``;
rows with an address to invite become ``POST /invitations`` (guests, or external members with userType
Member). The plan's special change attributes carry what is not a user property:

* ``@assignLicense`` (target skuIds) and ``@addToGroup`` (target group ids), as for a sync plan;
* ``@createAs`` (``member`` | ``invite``), ``@invitedUserType``, ``@inviteRedirectUrl``,
  ``@sendInvitationMessage``, ``@invitedUserMessage``, ``@forceChangePasswordNextSignIn``;
* ``@password`` = ``file`` (apply re-reads it from the CSV, whose SHA-256 the plan records) or ``generated``
  (apply generates one and writes it to a 0600 file next to the plan). The password itself is never in a plan.
* ``@manager`` (the object id of an existing target user) or ``@managerOp`` (the opId of the create, in this
  plan, of a manager the file adds): apply sets it once both users exist (``toolkit/apply/managers.py``).
  Never planned across clouds (Entra does not sync manager across clouds, ``plan/rules.py``
  ``CROSS_CLOUD_REFUSED``): a migration plan's source and target are the same cloud, the target's.

The plan header gains ``migration``: the CSV's name, absolute path, SHA-256, layout, rows planned and left out.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from .. import defaults
from ..errors import InputError
from ..plan.planfile import SyncPlan
from ..frames import CHANGES_COLUMNS, OPS_COLUMNS
from ..plan.columns import link_value
from ..plan.options import PlanOptions
from .validate import RowResult, Validation, parse_bool

__all__ = ["plan_migration", "SOURCE_TENANT", "DEFAULT_REDIRECT"]

SOURCE_TENANT = "csv"                      # the link's 'source tenant': ccsync:csv:<upn or invited address>
DEFAULT_REDIRECT = "https://myapps.microsoft.com"
# Fields written as user properties: on POST /users for members, by the follow-up PATCH for invited users.
_PROFILE = ("givenName", "surname", "jobTitle", "department", "companyName", "employeeId", "employeeType",
            "officeLocation", "streetAddress", "city", "state", "postalCode", "country", "usageLocation",
            "mobilePhone", "businessPhones", "preferredLanguage")


def _op_id(key: str) -> str:
    return "cre-" + hashlib.sha1(f"create|csv|{key.lower()}".encode()).hexdigest()[:12]


def _member_changes(r: RowResult) -> dict[str, Any]:
    v = r.values
    out: dict[str, Any] = {"displayName": v["displayName"], "userPrincipalName": v["userPrincipalName"],
                           "mailNickname": v.get("mailNickname") or v["userPrincipalName"].split("@")[0]}
    enabled = True
    if v.get("blockSignIn"):
        enabled = not parse_bool(v["blockSignIn"])
    elif v.get("accountEnabled"):
        enabled = bool(parse_bool(v["accountEnabled"]))
    out["accountEnabled"] = "true" if enabled else "false"
    if v.get("mail"):
        out["mail"] = v["mail"]
    force = parse_bool(v["forceChangePasswordNextSignIn"]) if v.get("forceChangePasswordNextSignIn") else True
    # A generated password is known only to the admin's hand-over file: the user must always change it.
    out["@forceChangePasswordNextSignIn"] = "true" if (force or not r.has_password) else "false"
    out["@password"] = "file" if r.has_password else "generated"
    out["@createAs"] = "member"
    return out


def _invite_changes(r: RowResult) -> dict[str, Any]:
    v = r.values
    out: dict[str, Any] = {"@createAs": "invite",
                           "@invitedUserType": "Member" if (v.get("userType") or "").lower() == "member" else "Guest",
                           "@inviteRedirectUrl": v.get("inviteRedirectUrl") or DEFAULT_REDIRECT,
                           "@sendInvitationMessage": "true" if parse_bool(v.get("sendInvitationMessage") or "no")
                           else "false"}
    if v.get("invitedUserMessage"):
        out["@invitedUserMessage"] = v["invitedUserMessage"]
    if v.get("displayName"):
        out["displayName"] = v["displayName"]
    if v.get("blockSignIn"):
        out["accountEnabled"] = "false" if parse_bool(v["blockSignIn"]) else "true"
    elif v.get("accountEnabled"):
        out["accountEnabled"] = "true" if parse_bool(v["accountEnabled"]) else "false"
    return out


def plan_migration(validation: Validation, *, skip_invalid: bool = False,
                   link_attribute: str = defaults.LINK_ATTRIBUTE) -> SyncPlan:
    """The plan for ``validation``'s valid rows. Needs a validation made against a target (tenant checks).

    Raises InputError when rows are invalid and ``skip_invalid`` is False, when there is no target, or when no
    row is left to plan.
    """
    if validation.target is None:
        raise InputError("a migration plan needs the target tenant", field="--target",
                         hint="Give --target with the target's profile or snapshot.")
    invalid = validation.invalid_rows
    if invalid and not skip_invalid:
        raise InputError(f"{len(invalid)} of {len(validation.rows)} rows are invalid (first: row {invalid[0].row}); "
                         "nothing was planned", source=validation.table.path,
                         hint="Fix them (see 'ccsync migrate validate'), or plan the valid rows with --skip-invalid.")
    rows = validation.valid_rows
    if not rows:
        raise InputError("no valid row to plan", source=validation.table.path,
                         hint="Fix the rows listed by 'ccsync migrate validate'.")
    options = PlanOptions(link_attribute=link_attribute, create_as="member", deletion_threshold=0,
                          check_licences=False)
    link_col = f"onPremisesExtensionAttributes.{link_attribute}"
    ops_rows, change_rows = [], []
    planned = {(r.key or "").lower() for r in rows if r.mode == "member"}
    managers_left_out: list[int] = []
    for r in sorted(rows, key=lambda x: (x.key or "").lower()):
        key = r.key or ""
        op_id = _op_id(key)
        changes = _member_changes(r) if r.mode == "member" else _invite_changes(r)
        for name in _PROFILE:
            if r.values.get(name):
                changes[name] = r.values[name].upper() if name == "usageLocation" else r.values[name]
        changes[link_col] = link_value(SOURCE_TENANT, key.lower())
        items = [(a, v) for a, v in changes.items()]
        items += [("@assignLicense", s) for s in r.licenses] + [("@addToGroup", g) for g in r.groups]
        manager = (r.values.get("manager") or "").strip()
        if r.manager_id:
            items.append(("@manager", r.manager_id))
        elif manager and manager.lower() in planned:
            items.append(("@managerOp", _op_id(manager)))
        elif manager:
            managers_left_out.append(r.row)      # its manager is on an invalid row that --skip-invalid left out
        for attr, value in items:
            change_rows.append({"opId": op_id, "attribute": attr, "oldValue": None, "newValue": str(value),
                                "flow": "once"})
        ops_rows.append({"opId": op_id, "kind": "create", "held": False, "sourceId": key.lower(), "sourceUpn": key,
                         "sourceMail": r.values.get("mail") or (key if r.mode == "invite" else None),
                         "targetId": None, "targetUpn": r.values.get("userPrincipalName") if r.mode == "member"
                         else None, "matchedBy": None,
                         "reason": f"CSV row {r.row}: " + ("new member (POST /users)" if r.mode == "member" else
                                                            f"invitation ({changes['@invitedUserType'].lower()})"),
                         "changeCount": len(items)})
    ops = pd.DataFrame(ops_rows, columns=OPS_COLUMNS)
    ops["held"] = ops["held"].astype(bool)
    changes_df = pd.DataFrame(change_rows, columns=CHANGES_COLUMNS)
    from .. import __version__

    t = validation.target
    table = validation.table
    header = {
        "format": "ccsync-plan/1", "toolkitVersion": __version__, "asOf": t.get("exportedAt") or "",
        "source": {"tenantId": SOURCE_TENANT, "cloud": t["cloud"], "displayName": f"CSV {Path(table.path).name}",
                   "exportedAt": None, "users": len(validation.rows), "usersInScope": len(rows)},
        "target": {"tenantId": t["tenantId"], "cloud": t["cloud"], "displayName": t.get("displayName"),
                   "exportedAt": t.get("exportedAt"), "users": t.get("users")},
        "pair": {"source": t["cloud"], "target": t["cloud"], "kind": "migration",
                 "note": "one-time migration from a CSV file (direct engine)"},
        "options": options.to_dict(),
        "mapping": {"source": None, "sha256": None, "rules": []},
        "scope": {"source": None, "sha256": None},
        "migration": {
            "file": Path(table.path).name, "path": str(Path(table.path).resolve()), "sha256": table.sha256,
            "layout": validation.layout.name, "encoding": table.encoding, "rows": len(validation.rows),
            "planned": len(rows), "skippedInvalidRows": [r.row for r in invalid],
            "passwordsFromFile": sum(1 for r in rows if r.mode == "member" and r.has_password),
            "passwordsGenerated": sum(1 for r in rows if r.mode == "member" and not r.has_password),
            "managers": sum(1 for r in rows if r.values.get("manager")) - len(managers_left_out),
            "managersLeftOut": sorted(managers_left_out),
        },
    }
    return SyncPlan(header=header, ops=ops, changes=changes_df)
