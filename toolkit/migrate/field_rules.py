"""Entra's rules for single values of a migration row: yes/no cells, lists in a cell, passwords, user principal
names, e-mail and invitation addresses, aliases, phone numbers, ids and SKU names. Rules and their Microsoft
sources are summarised in docs/migrate.md."""

from __future__ import annotations

import re
from typing import Iterable

__all__ = ["parse_bool", "split_list", "password_problems", "PASSWORD_SYMBOLS", "upn_problem", "email_ok", "GUID",
           "SKU_NAME", "PHONE", "FORMULA_START", "NICK_FORBIDDEN", "INVITE_FORBIDDEN"]

_TRUE = {"yes", "true", "y", "1"}
_FALSE = {"no", "false", "n", "0"}
# UPN: user-principal-name rules of Entra ("Username policies", concept-sspr-policy.md).
_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+$")
_DOMAIN = re.compile(r"^(?=.{1,255}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
# Invitation addresses: characters the invitation API forbids (invitation-post.md; docs/migrate.md).
INVITE_FORBIDDEN = set("~!#$%^&*()+=[]{}/|;:'<>?,\" ")
# Password characters Entra accepts (Microsoft Entra password policies, concept-sspr-policy.md).
PASSWORD_SYMBOLS = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "
_PW_ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + PASSWORD_SYMBOLS)
NICK_FORBIDDEN = set('@()\\[]";:<>, ')
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PHONE = re.compile(r"^\+?[0-9 ()./-]+(?:\s*(?:x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SKU_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
_LIST_SPLIT = re.compile(r"[;|\n]")


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


def email_ok(text: str) -> bool:
    if text.count("@") != 1:
        return False
    local, domain = text.split("@")
    return bool(local) and bool(_DOMAIN.match(domain)) and " " not in local


def upn_problem(upn: str) -> tuple[str, str] | None:
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
