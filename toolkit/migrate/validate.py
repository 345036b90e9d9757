"""Validation of a migration CSV before anything is written: every problem with its row, column, value and fix.

``validate_table(table, target=None)`` -> ``Validation``. Without a target only the file is checked; with a
target (``TenantData`` from a profile or a snapshot) the tenant checks are added: the UPN's domain is verified
there, UPN / mail / mailNickname / proxy addresses are free there, licences exist and have free seats, groups
and managers exist. Rules and their Microsoft sources are summarised in docs/migrate.md.

Passwords are checked here and then forgotten: a ``Validation`` holds no password, only whether a row has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..plan.rules import TARGET_LIMITS
from .countries import ISO_3166_ALPHA2
from .formats import Layout, detect_layout, is_template_example
from .read import CsvTable

__all__ = ["Problem", "RowResult", "Validation", "TargetIndex", "validate_table", "password_problems",
           "parse_bool", "split_list", "HIDDEN"]

HIDDEN = "(hidden)"
_TRUE = {"yes", "true", "y", "1"}
_FALSE = {"no", "false", "n", "0"}
# UPN: user-principal-name rules of Entra ("Username policies", concept-sspr-policy.md).
_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+$")
_DOMAIN = re.compile(r"^(?=.{1,255}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
# Invitation addresses: characters the invitation API forbids (invitation-post.md; docs/migrate.md).
_INVITE_FORBIDDEN = set("~!#$%^&*()+=[]{}/|;:'<>?,\" ")
# Password characters Entra accepts (Microsoft Entra password policies, concept-sspr-policy.md).
PASSWORD_SYMBOLS = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "
_PW_ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + PASSWORD_SYMBOLS)
_NICK_FORBIDDEN = set('@()\\[]";:<>, ')
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PHONE = re.compile(r"^\+?[0-9 ()./-]+(?:\s*(?:x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SKU_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
_LIST_SPLIT = re.compile(r"[;|\n]")


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str | None
    problem: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "value": self.value, "problem": self.problem, "fix": self.fix}


@dataclass
class RowResult:
    """One data row: its number (as Excel shows it), what it would create, and its problems.

    ``values``: the row's fields after trimming, *without* the password; ``has_password`` says whether the file
    gives one. ``mode``: ``member`` (POST /users) or ``invite`` (POST /invitations)."""

    row: int
    mode: str
    key: str | None                      # the UPN (member) or the invited address
    values: dict[str, str]
    has_password: bool
    errors: list[Problem] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)      # target skuIds (resolved) or the names as given
    groups: list[str] = field(default_factory=list)        # target group ids (resolved) or as given
    manager_id: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "mode": self.mode,
                "userPrincipalName": self.key if self.mode == "member" else None,
                "invitedUserEmailAddress": self.key if self.mode == "invite" else None,
                "displayName": self.values.get("displayName"), "valid": self.valid,
                "errors": [p.to_dict() for p in self.errors]}


@dataclass
class Validation:
    table: CsvTable
    layout: Layout
    rows: list[RowResult]
    notes: list[str]
    target: dict[str, Any] | None = None
    seats: list[dict[str, Any]] = field(default_factory=list)

    @property
    def valid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.valid]

    @property
    def invalid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if not r.valid]

    @property
    def exit_code(self) -> int:
        return 1 if self.invalid_rows else 0

    def summary(self) -> dict[str, Any]:
        return {"file": self.table.describe(), "layout": self.layout.name, "rows": len(self.rows),
                "valid": len(self.valid_rows), "invalid": len(self.invalid_rows),
                "problems": sum(len(r.errors) for r in self.rows), "unknownColumns": list(self.layout.unknown),
                "target": self.target, "tenantChecks": self.target is not None}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "notes": list(self.notes), "seats": self.seats,
                "rowResults": [r.to_dict() for r in self.rows]}

    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.errors]


# --- value helpers ------------------------------------------------------------------------------------------
def parse_bool(text: str) -> bool | None:
    """Yes/No, true/false, Y/N, 1/0 in any case; None when it is none of these."""
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    return None


def split_list(text: str) -> list[str]:
    """A cell holding several values: separated by ';', '|' or line breaks (',' when no other separator)."""
    parts = _LIST_SPLIT.split(text) if _LIST_SPLIT.search(text) else text.split(",")
    return [p.strip() for p in parts if p.strip()]


def password_problems(password: str, names: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(problem, fix) pairs for a password under Entra's policy; never quotes the password."""
    out = []
    if not 8 <= len(password) <= 256:
        out.append((f"is {len(password)} characters; Entra requires 8 to 256",
                    "Use a password of at least 8 characters, or leave the cell empty to have one generated."))
    bad = sorted({c for c in password if c not in _PW_ALLOWED})
    if bad:
        out.append((f"contains {len(bad)} character(s) Entra does not accept (Unicode letters or control "
                    "characters)", "Use only A-Z, a-z, 0-9, spaces and the symbols @ # $ % ^ & * - _ ! + = [ ] "
                                    "{ } | \\ : ' , . ? / ` ~ \" ( ) ; < >."))
    kinds = sum((any(c.islower() and c.isascii() for c in password), any(c.isupper() and c.isascii() for c in password),
                 any(c.isdigit() for c in password), any(c in PASSWORD_SYMBOLS for c in password)))
    if kinds < 3:
        out.append((f"uses {kinds} of the 4 character types; Entra requires 3 (lower case, upper case, digits, "
                    "symbols)", "Add upper-case letters, digits or symbols, or leave it empty to have one "
                                "generated."))
    low = password.lower()
    for name in names:
        n = (name or "").strip().lower()
        if len(n) >= 3 and n in low:
            out.append(("contains the account's name", "Choose a password that does not contain the user name, "
                                                         "first name or last name."))
            break
    return out


def _lower_set(values: Iterable[Any]) -> set[str]:
    return {str(v).strip().lower() for v in values if isinstance(v, str) and v.strip()}


class TargetIndex:
    """What the tenant checks need from ``TenantData``, indexed once (sets and dicts, lower-cased)."""

    def __init__(self, tenant: Any):
        import pandas as pd

        users = tenant.users
        self.tenant_id, self.cloud, self.display_name = tenant.tenant_id, tenant.cloud, tenant.display_name
        self.exported_at = tenant.exported_at
        self.upns = _lower_series(users["userPrincipalName"])
        self.mails = _lower_series(users["mail"])
        self.nicknames = _lower_series(users["mailNickname"])
        self.proxies: set[str] = set()
        if "proxyAddresses" in users.columns:
            for lst in users["proxyAddresses"]:
                if isinstance(lst, (list, tuple)) or hasattr(lst, "tolist"):
                    for a in list(lst):
                        self.proxies.add(str(a).split(":", 1)[-1].lower())
        self.addresses = self.upns | self.mails | self.proxies
        self.id_by_upn = dict(zip(users["userPrincipalName"].astype("string").str.lower(), users["id"]))
        self.ids = _lower_series(users["id"])
        d = tenant.domains
        self.verified = set(d.loc[d["isVerified"].fillna(False).astype(bool), "id"].astype(str).str.lower()) \
            if len(d) else set()
        s = tenant.skus
        self.skus: dict[str, dict[str, Any]] = {}
        for row in s.itertuples(index=False):
            info = {"skuId": str(row.skuId), "skuPartNumber": str(row.skuPartNumber),
                    "available": int(row.available) if not pd.isna(row.available) else 0,
                    "capabilityStatus": None if pd.isna(row.capabilityStatus) else str(row.capabilityStatus)}
            self.skus[str(row.skuId).lower()] = info
            self.skus[str(row.skuPartNumber).lower()] = info
        g = tenant.group_members
        self.groups: dict[str, str] = {}
        for gid, name in zip(g["groupId"], g["groupDisplayName"]):
            if isinstance(gid, str):
                self.groups[gid.lower()] = gid
                if isinstance(name, str):
                    self.groups.setdefault(name.lower(), gid)

    def describe(self) -> dict[str, Any]:
        return {"tenantId": self.tenant_id, "cloud": self.cloud, "displayName": self.display_name,
                "exportedAt": self.exported_at, "users": len(self.upns)}


def _lower_series(series: Any) -> set[str]:
    return set(series.dropna().astype("string").str.strip().str.lower())


# --- the validation -----------------------------------------------------------------------------------------
def validate_table(table: CsvTable, target: Any = None) -> Validation:
    """Check every row of ``table`` (file checks; tenant checks when ``target`` is given)."""
    layout = detect_layout(table.header)
    index = target if isinstance(target, TargetIndex) or target is None else TargetIndex(target)
    notes: list[str] = []
    if table.preamble is None and layout.name.startswith("portal"):
        notes.append("The portal's 'version:v1.0' first line is missing; ccsync reads the file anyway (the portal "
                     "would refuse it).")
    for h in layout.unknown:
        notes.append(f"Column '{h}' is not a field ccsync knows; its values are not used. Rename it to a Graph "
                     "property name (see 'ccsync migrate validate --help') or remove it.")
    for h in layout.duplicates:
        notes.append(f"Column '{h}' repeats a field given by an earlier column; only the first one is used.")
    by_field = layout.by_field()
    if not ({"userPrincipalName", "invitedUserEmailAddress"} & set(by_field)) and not (
            "mail" in by_field and "userType" in by_field):
        notes.append("The file has no userPrincipalName column (members) and no invitedUserEmailAddress column "
                     "(invitations): no row can be created.")
    rows: list[RowResult] = []
    for number, record in zip(table.row_numbers, table.rows):
        raw = {c.field: record[c.index] for c in layout.columns if c.field and c.index < len(record)}
        if is_template_example(raw):
            notes.append(f"Row {number} is the template's example row; it is skipped. Delete it from the file.")
            continue
        rows.append(_check_row(number, raw, layout, index))
    _check_duplicates(rows, layout)
    if index is not None:
        _check_target_duplicates(rows, layout, index)
        _check_managers(rows, layout, index)
    seats = _check_seats(rows, layout, index) if index is not None else []
    return Validation(table, layout, rows, notes, index.describe() if index is not None else None, seats)


def _check_row(number: int, raw: dict[str, str], layout: Layout, index: TargetIndex | None) -> RowResult:
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
        if name != "password" and t.startswith(_FORMULA_START) and not (
                name in ("businessPhones", "mobilePhone") and _PHONE.match(t)):
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
    if manager and not (_GUID.match(manager) or "@" in manager):
        add("manager", manager, "is neither a user principal name nor an object id",
            "Give the manager's UPN (e.g. boss@contoso.com) or object id.")
    for name in ("mail",):
        if values.get(name) and not _email_ok(values[name]):
            add(name, values[name], "is not an e-mail address", "Write it as name@domain.example.")
    return result


def _email_ok(text: str) -> bool:
    if text.count("@") != 1:
        return False
    local, domain = text.split("@")
    return bool(local) and bool(_DOMAIN.match(domain)) and " " not in local


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
        problem = _upn_problem(upn)
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
        bad = sorted({c for c in nick if c in _NICK_FORBIDDEN or ord(c) > 127})
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


def _upn_problem(upn: str) -> tuple[str, str] | None:
    if upn.count("@") != 1:
        return ("must contain exactly one @", "Write it as alias@domain, e.g. chris@contoso.com.")
    local, domain = upn.split("@")
    if not local or not _UPN_LOCAL.match(local):
        bad = "".join(sorted({c for c in local if not re.match(r"[A-Za-z0-9'.\-_!#^~]", c)}))
        return (f"has characters Entra does not allow before the @ ({bad!r})" if bad else "has nothing before the @",
                "Use only A-Z a-z 0-9 ' . - _ ! # ^ ~ before the @ (no spaces or accents).")
    if local.endswith(".") or local.startswith("."):
        return ("starts or ends with a period before the @", "Remove the period next to the @.")
    if len(local) > 64:
        return (f"has {len(local)} characters before the @; Entra allows 64", "Shorten the alias.")
    if len(domain) > 48:
        return (f"has a domain of {len(domain)} characters; Entra allows 48", "Use a shorter verified domain.")
    if len(upn) > 113:
        return (f"is {len(upn)} characters; Entra allows 113", "Shorten it.")
    if not _DOMAIN.match(domain):
        return (f"has an invalid domain ({domain})", "Use a domain like contoso.com.")
    return None


def _check_invite(values: dict[str, str], invited: str, password: str, add: Any) -> None:
    if not invited:
        add("invitedUserEmailAddress", "", "is empty; an invitation needs the address to invite",
            "Fill in the user's own e-mail address (across clouds: their UPN in the home tenant).")
    else:
        bad = sorted({c for c in invited.split("@")[0] if c in _INVITE_FORBIDDEN})
        if not _email_ok(invited):
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
        if not (_GUID.match(name) or _SKU_NAME.match(name)):
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
        if gid is None and _GUID.match(name):
            gid = name      # an id the snapshot does not list (it holds only exported groups): Graph decides
        if gid is None:
            add("groups", name, "is not a group ccsync found in the target",
                "Use the group's object id, or export the target with this group (ccsync export --group NAME).")
        else:
            resolved.append(gid)
    result.groups = resolved


def _check_duplicates(rows: list[RowResult], layout: Layout) -> None:
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


def _check_target_duplicates(rows: list[RowResult], layout: Layout, index: TargetIndex) -> None:
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


def _check_managers(rows: list[RowResult], layout: Layout, index: TargetIndex) -> None:
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


def _check_seats(rows: list[RowResult], layout: Layout, index: TargetIndex) -> list[dict[str, Any]]:
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
