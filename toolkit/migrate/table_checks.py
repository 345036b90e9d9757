"""The checks across the rows of a migration file and against the target's existing users: the same address or
mailNickname twice in the file or already in the target, managers that exist, and licences beyond the free
seats (the rows after the last free seat get the error, in file order)."""

from __future__ import annotations

from typing import Any

from .formats import Layout
from .row_results import Problem, RowResult
from .target_index import TargetIndex

__all__ = ["check_duplicates", "check_target_duplicates", "check_managers", "check_seats"]


def check_duplicates(rows: list[RowResult], layout: Layout) -> None:
    """The same UPN, mail, invited address or mailNickname on several rows: every row involved is reported."""
    seen: dict[str, list[tuple[RowResult, str]]] = {}
    nick_seen: dict[str, list[RowResult]] = {}
    for r in rows:
        for name in ("userPrincipalName", "mail", "invitedUserEmailAddress"):
            v = r.values.get(name)
            if name == "invitedUserEmailAddress" and r.mode == "invite":
                v = r.key
            if v:
                seen.setdefault(v.lower(), []).append((r, name))
        if r.mode == "member":
            nick = _nickname(r)
            if nick:
                nick_seen.setdefault(nick.lower(), []).append(r)
    for addr, hits in seen.items():
        rows_with = {h[0].row for h in hits}
        if len(rows_with) < 2:
            continue
        for r, name in hits:
            others = sorted(rows_with - {r.row})
            r.errors.append(Problem(r.row, layout.header_of(name), r.values.get(name) or r.key,
                                    f"is also used on row(s) {', '.join(map(str, others))} of this file",
                                    "Give every user a unique address; remove or fix the duplicate rows."))
    for nick, hits in nick_seen.items():
        if len(hits) < 2:
            continue
        for r in hits:
            others = sorted(h.row for h in hits if h is not r)
            r.errors.append(Problem(r.row, layout.header_of("mailNickname"), _nickname(r),
                                    f"mailNickname is also used on row(s) {', '.join(map(str, others))}",
                                    "Give each user a distinct mailNickname (or distinct UPN aliases)."))


def _nickname(r: RowResult) -> str | None:
    """The mailNickname a member gets: the column, else the UPN's alias (what the portal does too)."""
    if r.values.get("mailNickname"):
        return r.values["mailNickname"]
    upn = r.values.get("userPrincipalName") or ""
    return upn.split("@")[0] if "@" in upn else None


def check_target_duplicates(rows: list[RowResult], layout: Layout, index: TargetIndex) -> None:
    for r in rows:
        for name in ("userPrincipalName", "mail") if r.mode == "member" else ("invitedUserEmailAddress",):
            v = r.key if name == "invitedUserEmailAddress" else r.values.get(name)
            if not v:
                continue
            low = v.lower()
            if low in index.upns:
                what = "the user principal name of a user in the target tenant"
            elif low in index.mails:
                what = "the mail of a user in the target tenant"
            elif low in index.proxies:
                what = "a proxy address of a user in the target tenant"
            else:
                continue
            fix = ("The user already exists there: remove the row, or give it another address."
                   if r.mode == "member" else
                   "That user already exists in the target: remove the row (an invitation would collide with it, "
                   "InvitationCreationFailureAmbiguousUser for internal users).")
            r.errors.append(Problem(r.row, layout.header_of(name), v, f"is already {what}", fix))
        if r.mode == "member":
            nick = _nickname(r)
            if nick and nick.lower() in index.nicknames:
                r.errors.append(Problem(r.row, layout.header_of("mailNickname"), nick,
                                        "mailNickname is already used by a user in the target tenant",
                                        "Give the user another mailNickname (a mail alias must be unique)."))


def check_managers(rows: list[RowResult], layout: Layout, index: TargetIndex) -> None:
    in_file = {(r.values.get("userPrincipalName") or "").lower() for r in rows if r.mode == "member"}
    for r in rows:
        m = r.values.get("manager", "")
        if not m:
            continue
        low = m.lower()
        own_id = index.id_by_upn.get((r.key or "").lower()) if r.key else None
        if low == (r.key or "").lower() or (own_id is not None and low == str(own_id).lower()):
            r.errors.append(Problem(r.row, layout.header_of("manager"), m, "names the user as their own manager",
                                    "Give the UPN or object id of another user, or leave the manager empty."))
        elif low in index.id_by_upn:
            r.manager_id = str(index.id_by_upn[low])
        elif low in index.ids:
            r.manager_id = m
        elif low not in in_file:
            r.errors.append(Problem(r.row, layout.header_of("manager"), m,
                                    "is not a user of the target tenant nor a user this file creates",
                                    "Give the UPN or object id of an existing target user, or add the manager "
                                    "to the file."))


def check_seats(rows: list[RowResult], layout: Layout, index: TargetIndex) -> list[dict[str, Any]]:
    """Licences beyond the free seats: the rows after the last seat that is free get the error (file order)."""
    demand: dict[str, list[RowResult]] = {}
    for r in rows:
        if r.valid:
            for sku in r.licenses:
                demand.setdefault(sku.lower(), []).append(r)
    report = []
    for sku_id, wanting in demand.items():
        info = index.skus[sku_id]
        free = max(0, info["available"])
        short = max(0, len(wanting) - free)
        report.append({"skuId": info["skuId"], "skuPartNumber": info["skuPartNumber"], "available": free,
                       "needed": len(wanting), "shortfall": short})
        if short:
            for r in wanting[free:]:
                r.errors.append(Problem(r.row, layout.header_of("licenses"), info["skuPartNumber"],
                                        f"has no free seat left in the target ({free} free, {len(wanting)} rows ask "
                                        "for it)", f"Buy {short} more {info['skuPartNumber']} licence(s), free "
                                        "some, or remove the licence from this row."))
    return sorted(report, key=lambda x: x["skuPartNumber"])
