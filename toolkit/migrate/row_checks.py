"""The checks of one migration row on its own: required fields, spaces and formula-like cells, Graph's length
limits, member or invitation and the rules of each, yes/no cells, usage location, licences and groups (resolved
against the target when one is given), the manager's form. Checks across rows are in ``table_checks``."""

from __future__ import annotations

import re
from typing import Any

from ..plan.rules import TARGET_LIMITS
from .countries import ISO_3166_ALPHA2
from .field_rules import (FORMULA_START, GUID, INVITE_FORBIDDEN, NICK_FORBIDDEN, PHONE, SKU_NAME, email_ok,
                          parse_bool, password_problems, split_list, upn_problem)
from .formats import Layout
from .row_results import HIDDEN, Problem, RowResult
from .target_index import TargetIndex

__all__ = ["check_row"]


def check_row(number: int, raw: dict[str, str], layout: Layout, index: TargetIndex | None) -> RowResult:
    errs: list[Problem] = []
    col = layout.header_of

    def add(fieldname: str, value: str | None, problem: str, fix: str) -> None:
        errs.append(Problem(number, col(fieldname), value, problem, fix))

    values: dict[str, str] = {}
    password = raw.get("password", "")
    for name, text in raw.items():
        shown = HIDDEN if name == "password" else text
        if text != text.strip() and text.strip():
            add(name, shown, "has leading or trailing spaces",
                "Remove the spaces at the start and end of the cell (Entra would keep them or refuse the value).")
        t = text.strip()
        if name != "password" and t.startswith(FORMULA_START) and not (
                name in ("businessPhones", "mobilePhone") and PHONE.match(t)):
            add(name, t, "starts with a character that makes Excel treat it as a formula (= + - @)",
                "Remove the leading character, or check the cell was not filled by a formula by mistake.")
        limit = TARGET_LIMITS.get(name)
        if limit and len(t) > limit and name != "userPrincipalName":
            add(name, t, f"is {len(t)} characters; Graph allows at most {limit}", f"Shorten it to {limit} characters.")
        if name != "password":
            values[name] = t
    required = {c.field for c in layout.columns if c.required and c.field and c.field != "password"}
    for name in sorted(required):
        if not values.get(name):
            add(name, "", "is required", f"Fill in '{col(name)}' (the template marks it Required).")

    # member or invitation?
    invited = values.get("invitedUserEmailAddress", "")
    user_type = values.get("userType", "")
    if user_type and user_type.lower() not in ("member", "guest"):
        add("userType", user_type, "is neither Member nor Guest", "Write Member or Guest.")
    if layout.name == "portal-invite" or invited:
        mode = "invite"
    elif user_type.lower() == "guest":
        mode = "invite"
        invited = values.get("mail", "")
        if not invited:
            add("userType", user_type, "marks a guest, but the row has no address to invite",
                "Fill in invitedUserEmailAddress (or mail) with the guest's own address, or make it a Member.")
    else:
        mode = "member"
    key: str | None
    if mode == "member":
        key = values.get("userPrincipalName") or None
        _check_member(values, password, add, index)
    else:
        key = invited or None
        _check_invite(values, invited, password, add)
    for name in ("accountEnabled", "blockSignIn", "forceChangePasswordNextSignIn", "sendInvitationMessage"):
        if values.get(name) and parse_bool(values[name]) is None:
            add(name, values[name], "is not Yes/No or true/false", "Write Yes or No (or true or false).")
    loc = values.get("usageLocation", "")
    if loc and loc.upper() not in ISO_3166_ALPHA2:
        add("usageLocation", loc, "is not an ISO 3166-1 alpha-2 country code",
            "Use the two-letter country code where the user works, for example US, GB, DE or FR.")
    licenses = split_list(values.get("licenses", ""))
    if licenses and not loc:
        add("usageLocation", "", "is empty, but the row asks for a licence; Entra assigns licences only to users "
                                 "with a usage location", "Fill in the two-letter country code (e.g. US).")
    result = RowResult(number, mode, key, values, bool(password))
    result.errors = errs
    _check_licenses(result, licenses, add, index)
    _check_groups(result, split_list(values.get("groups", "")), add, index)
    manager = values.get("manager", "")
    if manager and not (GUID.match(manager) or "@" in manager):
        add("manager", manager, "is neither a user principal name nor an object id",
            "Give the manager's UPN (e.g. boss@contoso.com) or object id.")
    for name in ("mail",):
        if values.get(name) and not email_ok(values[name]):
            add(name, values[name], "is not an e-mail address", "Write it as name@domain.example.")
    return result


def _check_member(values: dict[str, str], password: str, add: Any, index: TargetIndex | None) -> None:
    upn = values.get("userPrincipalName", "")
    if not values.get("displayName"):
        add("displayName", values.get("displayName", ""), "is empty; Graph requires a display name to create a user",
            "Fill in the user's display name.")
    if not upn:
        add("userPrincipalName", "", "is empty; a member needs a user principal name",
            "Fill in alias@domain, on a domain verified in the target tenant (or use invitedUserEmailAddress "
            "to invite the user instead).")
    else:
        problem = upn_problem(upn)
        if problem:
            add("userPrincipalName", upn, problem[0], problem[1])
        elif index is not None:
            domain = upn.rsplit("@", 1)[1].lower()
            if domain not in index.verified:
                shown = ", ".join(sorted(index.verified)[:5]) or "none"
                add("userPrincipalName", upn, f"is on the domain {domain}, which is not verified in the target tenant",
                    f"Use a verified domain of the target (verified: {shown}), or verify {domain} there first.")
    nick = values.get("mailNickname", "")
    if nick:
        bad = sorted({c for c in nick if c in NICK_FORBIDDEN or ord(c) > 127})
        if bad:
            add("mailNickname", nick, f"contains characters a mail alias cannot hold ({''.join(bad)!r})",
                "Use letters, digits and . - _ only.")
    if password:
        local = upn.split("@")[0] if upn else ""
        for problem, fix in password_problems(password, (local, values.get("givenName", ""),
                                                         values.get("surname", ""))):
            add("password", HIDDEN, f"the password {problem}", fix)
    for name in ("invitedUserMessage", "inviteRedirectUrl", "sendInvitationMessage"):
        if values.get(name):
            add(name, values[name], "applies only to invitations, but this row creates a member",
                "Clear it, or put the address to invite in invitedUserEmailAddress.")


def _check_invite(values: dict[str, str], invited: str, password: str, add: Any) -> None:
    if not invited:
        add("invitedUserEmailAddress", "", "is empty; an invitation needs the address to invite",
            "Fill in the user's own e-mail address (across clouds: their UPN in the home tenant).")
    else:
        bad = sorted({c for c in invited.split("@")[0] if c in INVITE_FORBIDDEN})
        if not email_ok(invited):
            add("invitedUserEmailAddress", invited, "is not an e-mail address", "Write it as name@domain.example.")
        elif bad or invited[0] in ".-" or invited.split("@")[0][-1] in ".-":
            add("invitedUserEmailAddress", invited,
                "has characters the invitation API refuses" + (f" ({''.join(bad)!r})" if bad else
                                                               " (a period or hyphen at the start or end)"),
                "Use the address exactly as the user's mailbox has it; ~ ! # $ % ^ & * ( ) + = [ ] { } / | ; : ' "
                "< > ? , are not accepted.")
    url = values.get("inviteRedirectUrl", "")
    if url and not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        add("inviteRedirectUrl", url, "is not a web address", "Use https://myapps.microsoft.com or your app's URL.")
    if password:
        add("password", HIDDEN, "is set, but invited users sign in with their own account",
            "Clear the password for this row (or create the user as a member with a userPrincipalName).")
    if values.get("userPrincipalName"):
        add("userPrincipalName", values["userPrincipalName"],
            "is set on an invitation; Entra derives an invited user's UPN itself",
            "Clear it, or clear invitedUserEmailAddress to create a member instead.")


def _check_licenses(result: RowResult, names: list[str], add: Any, index: TargetIndex | None) -> None:
    resolved = []
    for name in names:
        if not (GUID.match(name) or SKU_NAME.match(name)):
            add("licenses", name, "is neither a SKU part number nor a SKU id",
                "Give SKU part numbers (e.g. ENTERPRISEPACK) or skuIds, separated by ';'.")
            continue
        if index is None:
            resolved.append(name)
            continue
        sku = index.skus.get(name.lower())
        if sku is None:
            names_known = sorted({s["skuPartNumber"] for s in index.skus.values()})
            add("licenses", name, "is not a SKU the target tenant subscribes to",
                f"Use one of the target's SKUs: {', '.join(names_known[:8]) or 'none'}.")
        elif sku["capabilityStatus"] not in (None, "Enabled", "Warning"):
            add("licenses", name, f"is a target subscription in state {sku['capabilityStatus']}",
                "Renew the subscription or pick another SKU.")
        else:
            resolved.append(sku["skuId"])
    result.licenses = resolved


def _check_groups(result: RowResult, names: list[str], add: Any, index: TargetIndex | None) -> None:
    resolved = []
    for name in names:
        if index is None:
            resolved.append(name)
            continue
        gid = index.groups.get(name.lower())
        if gid is None and GUID.match(name):
            gid = name      # an id the snapshot does not list (it holds only exported groups): Graph decides
        if gid is None:
            add("groups", name, "is not a group ccsync found in the target",
                "Use the group's object id, or export the target with this group (ccsync export --group NAME).")
        else:
            resolved.append(gid)
    result.groups = resolved
