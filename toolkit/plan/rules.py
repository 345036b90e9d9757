"""Attribute mappings and scoping rules: the two files an admin edits, parsed with errors that point at the line.

Mapping file (one target attribute per line)::

    # target attribute  = Entra expression          applied on create and on every update ("Always")
    displayName          = [displayName]
    once userType        = "Member"                 # "once": only when the user is created
    department           = Switch([department], [department], "R and D", "R&D")

Scoping file::

    group CCS-Sync-Scope                 # users who are DIRECT members of a listed group (name or object id)
    filter Sales                         # a scoping filter: its clauses are ANDed ...
        department EQUALS "Sales"
        accountEnabled IS TRUE
    filter Contractors                   # ... and filters are ORed, as in Entra
        employeeType EQUALS "Contractor"

With groups and filters both given, a user must be a direct member of a group AND pass a filter (Entra's "sync
only assigned users" plus scoping filters). With neither, every internal member is in scope.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..textfile import read_text_file
from .expressions import Expression, parse_expression

__all__ = ["MappingRule", "Mapping", "parse_mapping", "load_mapping", "default_mapping", "Clause", "ScopeFilter",
           "Scope", "parse_scope", "load_scope", "OPERATORS", "TARGET_LIMITS", "BOOLEAN_TARGETS",
           "WRITE_ONLY_TARGETS", "REFUSED_TARGETS", "CROSS_CLOUD_REFUSED", "WRITABLE_TARGETS", "is_writable_target",
           "CREATE_ONLY_TARGETS"]

# Graph's documented maximum lengths for user properties ccsync writes (user resource type, v1.0).
TARGET_LIMITS = {
    "displayName": 256, "givenName": 64, "surname": 64, "mailNickname": 64, "jobTitle": 128, "department": 64,
    "companyName": 64, "employeeId": 16, "employeeType": 64, "officeLocation": 128, "streetAddress": 1024,
    "city": 128, "state": 128, "postalCode": 40, "country": 128, "mobilePhone": 64, "preferredLanguage": 10,
    "usageLocation": 2, "userPrincipalName": 113, "mail": 256,
}
BOOLEAN_TARGETS = {"accountEnabled", "showInAddressList"}
# Graph accepts these on write but does not return them to an app ("do not use in Microsoft Graph" for
# showInAddressList), so ccsync cannot compare them later: they may only be set when the user is created.
WRITE_ONLY_TARGETS = {"showInAddressList"}
REFUSED_TARGETS = {
    "id": "the object id is assigned by Entra",
    "proxyAddresses": "proxyAddresses is read-only in Graph (a source, never a target)",
    "otherMails": "otherMails must not be a target of cross-tenant sync (it is computed in the target)",
    "createdDateTime": "read-only", "creationType": "read-only", "externalUserState": "read-only",
    "onPremisesSyncEnabled": "read-only", "onPremisesImmutableId": "set only by hybrid sync",
    "mail": "mail is set from the invitation; Entra refuses updates of mail on synced B2B users "
            "(AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService)",
}
# Every user property a mapping may write (Graph user resource, v1.0: writable properties ccsync can compare),
# plus onPremisesExtensionAttributes.extensionAttribute1..15. Anything else is refused, so a typo or a property
# Graph would never accept from ccsync (passwordProfile, ...) is found when the mapping is read. The plan file's
# schema (toolkit.plan.schema) allows the same attributes.
WRITABLE_TARGETS = frozenset(set(TARGET_LIMITS) | BOOLEAN_TARGETS | {
    "userType", "manager", "employeeHireDate", "faxNumber", "businessPhones", "ageGroup",
    "consentProvidedForMinor", "employeeOrgData", "onPremisesSamAccountName"})
EXTENSION_TARGET = re.compile(r"^onPremisesExtensionAttributes\.extensionAttribute(?:[1-9]|1[0-5])$")


# A create may also set these: POST /users takes mail (a CSV migration's members, toolkit/migrate/convert.py);
# as a mapping target it stays refused (REFUSED_TARGETS: synced B2B users cannot have it updated).
CREATE_ONLY_TARGETS = frozenset({"mail"})


def is_writable_target(attribute: str, *, create: bool = False) -> bool:
    """True for an attribute a mapping (and so a plan) may write: a known user property or extensionAttributeN;
    with ``create``, also what only a create sets (``CREATE_ONLY_TARGETS``)."""
    if create and attribute in CREATE_ONLY_TARGETS:
        return True
    return (attribute in WRITABLE_TARGETS and attribute not in REFUSED_TARGETS) or bool(
        EXTENSION_TARGET.match(attribute))


CROSS_CLOUD_REFUSED = {
    "manager": "Microsoft Entra does not synchronize the manager attribute across clouds (nor inside the US "
               "Government cloud)",
}


@dataclass(frozen=True)
class MappingRule:
    target: str
    expression: Expression
    once: bool                 # applied only when the user is created
    line: int

    @property
    def flow(self) -> str:
        return "once" if self.once else "always"


@dataclass(frozen=True)
class Mapping:
    rules: tuple[MappingRule, ...]
    source: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def rule(self, target: str) -> MappingRule | None:
        return next((r for r in self.rules if r.target == target), None)

    def source_attributes(self) -> set[str]:
        out: set[str] = set()
        for r in self.rules:
            out |= r.expression.attributes
        return out

    def to_dict(self) -> list[dict]:
        return [{"target": r.target, "expression": r.expression.text, "flow": r.flow} for r in self.rules]


_RULE = re.compile(r"^(?P<once>once\s+)?(?P<target>[A-Za-z][A-Za-z0-9_.]*)\s*=\s*(?P<expr>.+)$")


def _strip_comment(line: str) -> str:
    """Drop a trailing # comment that is not inside a string constant."""
    in_string, escaped = False, False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            return line[:i]
    return line


def parse_mapping(text: str, source: str = "<mapping>") -> Mapping:
    rules: list[MappingRule] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        m = _RULE.match(line)
        if not m:
            raise InputError(f"cannot read {line!r}", source=source, row=number,
                             hint="Write one mapping per line: 'targetAttribute = expression', or "
                                  "'once targetAttribute = expression' for values set only on create.")
        target = m.group("target")
        if target in seen:
            raise InputError(f"'{target}' is mapped twice (first on line {seen[target]})", source=source,
                             row=number, field=target, hint="Keep one mapping per target attribute.")
        if target in REFUSED_TARGETS:
            raise InputError(f"'{target}' cannot be a mapping target: {REFUSED_TARGETS[target]}", source=source,
                             row=number, field=target, hint="Remove this line.")
        if not is_writable_target(target):
            raise InputError(f"'{target}' is not a user attribute ccsync can write", source=source, row=number,
                             field=target, hint="Use a Graph user property name (displayName, jobTitle, "
                                                "department, ...) or onPremisesExtensionAttributes.extensionAttribute1"
                                                "..15; see docs/mapping.md.")
        once = bool(m.group("once"))
        if target in WRITE_ONLY_TARGETS and not once:
            raise InputError(f"'{target}' can only be set when the user is created: Graph does not return it, so "
                             "ccsync could never tell whether it changed", source=source, row=number, field=target,
                             hint=f"Write 'once {target} = ...'.")
        expr_col = raw.index(m.group("expr").strip()[:1]) if m.group("expr").strip() else 0
        expression = parse_expression(m.group("expr"), source=source, line=number, column_offset=expr_col)
        seen[target] = number
        rules.append(MappingRule(target, expression, once, number))
    if not rules:
        raise InputError("the mapping file has no mappings", source=source,
                         hint="Start from the default: 'ccsync plan --show-default-mapping > mapping.map'.")
    return Mapping(tuple(rules), source, text)


def _read(path: str | Path, what: str) -> tuple[str, str]:
    # Not UTF-8 (or UTF-16 with a BOM): an error naming the file, line and column (toolkit.textfile).
    return read_text_file(path, what=f"{what} file"), str(Path(path))


def load_mapping(path: str | Path) -> Mapping:
    return parse_mapping(*_read(path, "mapping"))


def default_mapping() -> Mapping:
    """ccsync's default mapping, mirroring Entra's cross-tenant sync defaults (graph-facts section 3)."""
    text = resources.files("toolkit").joinpath("data", "default-mapping.map").read_text(encoding="utf-8")
    return parse_mapping(text, "default-mapping.map")


# --- scoping --------------------------------------------------------------------------------------------

# Entra scoping-filter operators ("Attribute-based app provisioning with scoping filters").
OPERATORS = ("&", "!&", "ENDS_WITH", "EQUALS", "GREATER_THAN", "GREATER_THAN_OR_EQUALS", "INCLUDES", "IS FALSE",
             "IS NOT NULL", "IS NULL", "IS TRUE", "NOT EQUALS", "NOT REGEX MATCH", "REGEX MATCH")
_UNARY = {"IS FALSE", "IS NOT NULL", "IS NULL", "IS TRUE"}
# Entra's known issues: these cannot be used in scoping filters.
_UNSUPPORTED_SCOPING = {"userType": "Entra does not support userType in scoping filters",
                        "manager": "Entra does not support manager in scoping filters",
                        "appRoleAssignments": "Entra does not support appRoleAssignments in scoping filters",
                        "createdDateTime": "Entra does not support date attributes in scoping filters",
                        "onPremisesLastSyncDateTime": "Entra does not support date attributes in scoping filters",
                        "externalUserStateChangeDateTime":
                            "Entra does not support date attributes in scoping filters"}


@dataclass(frozen=True)
class Clause:
    attribute: str
    operator: str
    value: str | None
    line: int

    def evaluate(self, users: pd.DataFrame) -> pd.Series:
        """Entra semantics: a null (or empty) attribute makes every clause false, except IS NULL."""
        if self.attribute not in users.columns:
            raise InputError(f"the source users have no attribute '{self.attribute}' (scoping line {self.line})",
                             hint="Use a Graph user property name, e.g. department.")
        col = users[self.attribute]
        as_text = col.map(lambda v: None if pd.isna(v) else ("True" if v is True else "False" if v is False
                                                                else str(v))).astype("object")
        present = as_text.notna() & (as_text != "")
        op, val = self.operator, self.value
        if op == "IS NULL":
            return ~present
        if op == "IS NOT NULL":
            return present
        if op == "IS TRUE":
            return present & (as_text.str.lower() == "true")
        if op == "IS FALSE":
            return present & (as_text.str.lower() == "false")
        text = as_text.fillna("")
        if op == "EQUALS":
            result = text == val
        elif op == "NOT EQUALS":
            result = text != val
        elif op == "ENDS_WITH":
            result = text.str.endswith(val)
        elif op == "INCLUDES":
            result = text.str.contains(val, regex=False)
        elif op in ("REGEX MATCH", "NOT REGEX MATCH"):
            hit = text.str.contains(val, regex=True)
            result = hit if op == "REGEX MATCH" else ~hit
        else:
            number = pd.to_numeric(text, errors="coerce")
            target = int(val)
            result = {"GREATER_THAN": number > target, "GREATER_THAN_OR_EQUALS": number >= target,
                      "&": (number.fillna(0).astype("int64") & target) == target,
                      "!&": (number.fillna(0).astype("int64") & target) != target}[op]
            result = result & number.notna()
        return (present & result.astype(bool)).astype(bool)


@dataclass(frozen=True)
class ScopeFilter:
    name: str
    clauses: tuple[Clause, ...]
    line: int


@dataclass(frozen=True)
class Scope:
    groups: tuple[str, ...] = ()
    filters: tuple[ScopeFilter, ...] = ()
    source: str = "<all users>"
    text: str = ""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def describe(self) -> dict:
        return {"groups": list(self.groups),
                "filters": [{"name": f.name, "clauses": [f"{c.attribute} {c.operator}"
                                                          + (f" {c.value!r}" if c.value is not None else "")
                                                          for c in f.clauses]} for f in self.filters]}

    def filter_mask(self, users: pd.DataFrame) -> pd.Series:
        """Users passing the scoping filters (all of them when there are none)."""
        if not self.filters:
            return pd.Series(True, index=users.index)
        mask = pd.Series(False, index=users.index)
        for f in self.filters:
            clause_mask = pd.Series(True, index=users.index)
            for c in f.clauses:
                clause_mask &= c.evaluate(users)
            mask |= clause_mask
        return mask


_CLAUSE = re.compile(r"^(?P<attr>[A-Za-z][A-Za-z0-9_.]*)\s+(?P<rest>.+)$")


def parse_scope(text: str, source: str = "<scope>") -> Scope:
    groups: list[str] = []
    filters: list[ScopeFilter] = []
    current: tuple[str, int, list[Clause]] | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            name, line, clauses = current
            if not clauses:
                raise InputError(f"filter '{name}' has no clauses", source=source, row=line,
                                 hint="Indent one or more clauses below it, e.g. '    department EQUALS \"Sales\"'.")
            filters.append(ScopeFilter(name, tuple(clauses), line))
            current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indented = line[:1].isspace()
        stripped = line.strip()
        keyword, _, rest = stripped.partition(" ")
        if not indented and keyword.lower() == "group":
            close()
            if not rest.strip():
                raise InputError("'group' needs a group name or object id", source=source, row=number)
            groups.append(_unquote(rest.strip(), source, number, "group"))
        elif not indented and keyword.lower() == "filter":
            close()
            current = (rest.strip() or f"filter {len(filters) + 1}", number, [])
        elif indented and current is not None:
            current[2].append(_parse_clause(stripped, source, number))
        else:
            raise InputError(f"cannot read {stripped!r}", source=source, row=number,
                             hint="Lines are 'group NAME', 'filter NAME', or an indented clause under a filter "
                                  "such as '    department EQUALS \"Sales\"'.")
    close()
    return Scope(tuple(groups), tuple(filters), source, text)


def _parse_clause(text: str, source: str, line: int) -> Clause:
    m = _CLAUSE.match(text)
    if not m:
        raise InputError(f"cannot read the clause {text!r}", source=source, row=line,
                         hint="Write: attribute OPERATOR \"value\", e.g. department EQUALS \"Sales\".")
    attr, rest = m.group("attr"), m.group("rest").strip()
    if attr in _UNSUPPORTED_SCOPING:
        raise InputError(f"'{attr}' cannot be used in a scoping filter: {_UNSUPPORTED_SCOPING[attr]}",
                         source=source, row=line, field=attr, hint="Scope by group membership or another attribute.")
    upper = rest.upper()
    for op in sorted(OPERATORS, key=len, reverse=True):
        if upper == op or upper.startswith(op + " "):
            value_text = rest[len(op):].strip()
            if op in _UNARY:
                if value_text:
                    raise InputError(f"{op} takes no value", source=source, row=line, field=attr)
                return Clause(attr, op, None, line)
            if not value_text:
                raise InputError(f"{op} needs a value", source=source, row=line, field=attr,
                                 hint=f'Example: {attr} {op} "value"')
            value = _unquote(value_text, source, line, attr)
            if op in ("GREATER_THAN", "GREATER_THAN_OR_EQUALS", "&", "!&") and not re.fullmatch(r"-?\d+", value):
                raise InputError(f"{op} compares integers only, got {value!r}", source=source, row=line,
                                 field=attr)
            if op in ("REGEX MATCH", "NOT REGEX MATCH"):
                try:
                    re.compile(value)
                except re.error as exc:
                    raise InputError(f"invalid regular expression {value!r}: {exc}", source=source, row=line,
                                     field=attr) from exc
            return Clause(attr, op, value, line)
    raise InputError(f"unknown operator in {text!r}", source=source, row=line, field=attr,
                     hint=f"Operators: {', '.join(OPERATORS)}.")


def _unquote(text: str, source: str, line: int, field: str) -> str:
    """A value written "in quotes" (or bare, without any quote); an unbalanced or stray quote is an error, never
    part of the value (a clause comparing with '"Sales' matches nobody and would empty the scope silently)."""
    if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    if '"' in text:
        raise InputError(f"unbalanced or stray quote in {text!r}", source=source, row=line, field=field,
                         hint='Write the value in one pair of double quotes, e.g. "Sales", without quotes inside.')
    return text


def load_scope(path: str | Path) -> Scope:
    return parse_scope(*_read(path, "scoping"))
