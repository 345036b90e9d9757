"""The synchronization schema of a simulated cross-tenant sync job: the default ``Azure2Azure`` schema, its
checks on PUT, and the small evaluator of attribute-mapping expressions and scoping filters the sync engine
uses.

This module deliberately knows nothing of ``toolkit.plan``: ccsync's planner predicts what this engine does,
and the two are compared, so each must have its own reading of Microsoft's rules. Sources:
docs/entra-sync-simulator.md ("Schema"). Where Microsoft does not document something, a comment says so.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
import uuid
from typing import Any, Callable, Mapping

__all__ = ["default_schema", "check_schema", "user_rule", "user_mapping", "evaluate", "scope_result",
           "net_id", "alt_sec_id", "SchemaError", "RULE_ID", "SOURCE_DIRECTORY", "TARGET_DIRECTORY"]

SOURCE_DIRECTORY = "Azure Active Directory"
TARGET_DIRECTORY = "Azure Active Directory (target tenant)"
# The rule id is a property of the template in Entra (the same for every Azure2Azure job, as far as the
# how-to's examples show); ours is fixed too.
RULE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ccsync-sim/Azure2Azure/USER_INBOUND_USER"))
USER_MAPPING_NAME = "Provision Azure Active Directory Users"


class SchemaError(ValueError):
    """A schema the service refuses (``code`` is the Graph error code)."""

    def __init__(self, message: str, code: str = "BadRequest"):
        super().__init__(message)
        self.code = code


# --- the default schema ----------------------------------------------------------------------------------

def _attr(name: str) -> dict[str, Any]:
    return {"expression": f"[{name}]", "name": name, "parameters": [], "type": "Attribute"}


def _mapping(target: str, source: dict[str, Any], *, flow: str = "Always", matching: int = 0) -> dict[str, Any]:
    return {"defaultValue": None, "exportMissingReferences": False, "flowBehavior": "FlowWhenChanged",
            "flowType": flow, "matchingPriority": matching, "source": source, "targetAttributeName": target}


# Default user mappings of the cross-tenant sync template (graph-facts 3, [CTS-PORTAL] step 9 and the overview FAQ
# "Attributes"; Microsoft publishes no complete list in text form, so the plain attribute list below follows the
# portal transcriptions graph-facts 3 cites, plus surname and jobTitle). Manager is left out: it is not synced
# cross-cloud nor in US Government clouds.
_PLAIN_ATTRIBUTES = ("accountEnabled", "displayName", "givenName", "surname", "mail", "mailNickname",
                     "userPrincipalName", "jobTitle", "department", "companyName", "employeeId", "streetAddress",
                     "city", "state", "postalCode", "country", "preferredLanguage", "IsSoftDeleted")


def default_mappings() -> list[dict[str, Any]]:
    out = [_mapping("alternativeSecurityIds", {
        "expression": "AltSecIdFromNetId([netId])", "name": "AltSecIdFromNetId",
        "parameters": [{"key": "netId", "value": _attr("netId")}], "type": "Function"}, matching=1)]
    out += [_mapping(name, _attr(name)) for name in _PLAIN_ATTRIBUTES]
    # userType: Constant "Member" (external member); applied to an existing B2B user only when "Apply this
    # mapping" is Always ([CTS-PORTAL] step 9), so the default applies it on creation only.
    out.append(_mapping("userType", {"expression": "\"Member\"", "name": "Member", "parameters": [],
                                     "type": "Constant"}, flow="ObjectAddOnly"))
    out.append(_mapping("showInAddressList", {"expression": "\"true\"", "name": "true", "parameters": [],
                                              "type": "Constant"}))
    return out


def default_schema(job_id: str) -> dict[str, Any]:
    """The synchronizationSchema of a new Azure2Azure job ([CTS-GRAPH] step 11 shape)."""
    user_mapping = {"enabled": True, "flowTypes": "Add, Update, Delete", "metadata": [], "name": USER_MAPPING_NAME,
                    "scope": None, "sourceObjectName": "User", "targetObjectName": "User",
                    "attributeMappings": default_mappings()}
    rule = {"containerFilter": None, "editable": True, "groupFilter": None, "id": RULE_ID,
            "name": "USER_INBOUND_USER", "priority": 1, "sourceDirectoryName": SOURCE_DIRECTORY,
            "targetDirectoryName": TARGET_DIRECTORY,
            "metadata": [{"key": "defaultSourceObjectMappings", "value": "User"},
                         {"key": "supportsProvisionOnDemand", "value": "true"}],
            "objectMappings": [user_mapping]}
    # directories[] (the attribute definitions of each side) are part of the real schema; the simulator serves
    # them without attribute definitions.
    directories = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ccsync-sim/{name}")), "name": name,
                    "discoverabilities": "None", "discoveryDateTime": None, "objects": []}
                   for name in (SOURCE_DIRECTORY, TARGET_DIRECTORY)]
    return {"id": job_id, "version": "v1.2", "synchronizationRules": [rule], "directories": directories}


def user_rule(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    return next((r for r in schema.get("synchronizationRules") or [] if r.get("name") == "USER_INBOUND_USER"), None)


def user_mapping(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The enabled User -> User object mapping of the USER_INBOUND_USER rule, if any."""
    rule = user_rule(schema)
    for m in (rule or {}).get("objectMappings") or []:
        if m.get("sourceObjectName", "").lower() == "user" and m.get("targetObjectName", "").lower() == "user":
            return m if m.get("enabled", True) else None
    return None


def check_schema(schema: Any) -> None:
    """Refuse a schema the engine cannot run (PUT .../schema). Raises SchemaError."""
    if not isinstance(schema, dict) or not isinstance(schema.get("synchronizationRules"), list):
        raise SchemaError("The schema must have a synchronizationRules collection.")
    rule = user_rule(schema)
    if rule is None:
        raise SchemaError("The schema has no USER_INBOUND_USER synchronization rule.")
    for mapping in rule.get("objectMappings") or []:
        maps = mapping.get("attributeMappings") or []
        matching = [m for m in maps if int(m.get("matchingPriority") or 0) > 0]
        # AltSecIdFromNetId is the only matching attribute; adding more is a schemaInvalid error (graph-facts 3).
        if len(matching) != 1 or matching[0].get("targetAttributeName") != "alternativeSecurityIds":
            raise SchemaError("Only alternativeSecurityIds (AltSecIdFromNetId([netId])) can be a matching attribute "
                              "for cross-tenant synchronization.", "schemaInvalid")
        for m in maps:
            source = m.get("source") or {}
            expression = source.get("expression") or ""
            if len(expression) > 10_000:   # known-issues.md: expressions are capped at 10,000 characters
                raise SchemaError(f"The expression of '{m.get('targetAttributeName')}' is longer than 10,000 "
                                  "characters.")
            try:
                parse(expression) if source.get("type") == "Function" else None
            except SchemaError:
                raise
            if m.get("targetAttributeName") in ("proxyAddresses", "otherMails"):
                raise SchemaError(f"'{m['targetAttributeName']}' cannot be a target attribute "
                                  "(known-issues.md).")
        for group in ((mapping.get("scope") or {}).get("groups") or []):
            for clause in group.get("clauses") or []:
                if _operator(clause.get("operatorName")) not in _OPERATORS:
                    raise SchemaError(f"Unsupported scoping operator '{clause.get('operatorName')}'.")


# --- identities --------------------------------------------------------------------------------------------

def net_id(tenant_id: str, user_id: str) -> str:
    """The user's netId (PUID): 16 upper-case hex digits, stable per tenant and user (Entra's value is opaque)."""
    return hashlib.sha256(f"{tenant_id}/{user_id}".encode()).hexdigest()[:16].upper()


def alt_sec_id(net: str) -> list[dict[str, Any]]:
    """AltSecIdFromNetId: the alternativeSecurityIds value that links a B2B user to its home account.
    Graph v1.0 does not expose users' alternativeSecurityIds; the shape follows the directory's
    alternativeSecurityId type (type, identityProvider, key)."""
    return [{"type": 1, "identityProvider": None, "key": base64.b64encode(bytes.fromhex(net)).decode()}]


# --- expressions -----------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<attr>\[[^\]]+\])|(?P<str>"(?:[^"\\]|\\.)*")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)'
                    r'|(?P<punct>[(),]))')


def parse(expression: str) -> Any:
    """Parse ``Fn(arg, ...)`` / ``[attribute]`` / ``"literal"`` into a small tree. Raises SchemaError."""
    tokens, pos, text = [], 0, expression.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SchemaError(f"Cannot parse the expression '{expression}'.")
        tokens.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    tree, rest = _parse_node(tokens, expression)
    if rest:
        raise SchemaError(f"Cannot parse the expression '{expression}'.")
    return tree


def _parse_node(tokens: list[tuple[str, str]], expression: str) -> tuple[Any, list[tuple[str, str]]]:
    if not tokens:
        raise SchemaError(f"Cannot parse the expression '{expression}'.")
    kind, value = tokens[0]
    if kind == "attr":
        return ("attr", value[1:-1]), tokens[1:]
    if kind == "str":
        return ("const", bytes(value[1:-1], "utf-8").decode("unicode_escape")), tokens[1:]
    if kind == "name" and len(tokens) > 1 and tokens[1] == ("punct", "("):
        if value not in FUNCTIONS:
            raise SchemaError(f"The function '{value}' is not supported by the simulator's sync engine.")
        args, rest = [], tokens[2:]
        while rest and rest[0] != ("punct", ")"):
            arg, rest = _parse_node(rest, expression)
            args.append(arg)
            if rest and rest[0] == ("punct", ","):
                rest = rest[1:]
        if not rest:
            raise SchemaError(f"Cannot parse the expression '{expression}'.")
        return ("call", value, args), rest[1:]
    raise SchemaError(f"Cannot parse the expression '{expression}'.")


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data
    "AltSecIdFromNetId": lambda net: alt_sec_id(net) if net else None,
    "Coalesce": _coalesce,
    "Join": lambda sep, *vals: str(sep).join(str(v) for v in vals if v not in (None, "")),
    "Append": lambda a, b: None if a is None else f"{a}{b or ''}",
    "ToLower": lambda s, *_: None if s is None else str(s).lower(),
    "ToUpper": lambda s, *_: None if s is None else str(s).upper(),
    "Trim": lambda s: None if s is None else str(s).strip(),
    "NormalizeDiacritics": lambda s: None if s is None else "".join(
        c for c in unicodedata.normalize("NFKD", str(s)) if not unicodedata.combining(c)),
    "IgnoreFlowIfNullOrEmpty": lambda s: s,
}


def evaluate(source: Mapping[str, Any], attributes: Callable[[str], Any]) -> Any:
    """The value of an attributeMappingSource for one source object (``attributes(name)`` reads it)."""
    kind = source.get("type")
    if kind == "Constant":
        return source.get("name") if source.get("name") is not None else _unquote(source.get("expression"))
    if kind == "Attribute":
        return attributes(str(source.get("name") or str(source.get("expression", "")).strip("[]")))
    return _eval(parse(str(source.get("expression") or "")), attributes)


def _unquote(text: Any) -> Any:
    if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _eval(node: Any, attributes: Callable[[str], Any]) -> Any:
    if node[0] == "attr":
        return attributes(node[1])
    if node[0] == "const":
        return node[1]
    return FUNCTIONS[node[1]](*(_eval(a, attributes) for a in node[2]))


# --- scoping filters ---------------------------------------------------------------------------------------

def _operator(name: Any) -> str:
    # The portal names operators with spaces ("IS NOT NULL"), Graph's schema with underscores; accept both.
    return re.sub(r"[\s_]+", "_", str(name or "").strip()).upper()


def _values(clause: Mapping[str, Any]) -> list[str]:
    return [str(v) for v in ((clause.get("targetOperand") or {}).get("values") or [])]


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _flag(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value or "").lower()


# define-conditional-rules-for-provisioning-user-accounts.md: EQUALS is case-sensitive; a null or empty value
# makes a clause false (except the null tests); Greater_Than* compare integers only.
_OPERATORS: dict[str, Callable[[Any, list[str]], bool]] = {
    "EQUALS": lambda v, t: v not in (None, "") and any(str(v) == x for x in t),
    "NOT_EQUALS": lambda v, t: v not in (None, "") and all(str(v) != x for x in t),
    "IS_TRUE": lambda v, t: _flag(v) == "true",
    "IS_FALSE": lambda v, t: _flag(v) == "false",
    "IS_NULL": lambda v, t: v in (None, ""),
    "IS_NOT_NULL": lambda v, t: v not in (None, ""),
    "REGEX_MATCH": lambda v, t: v not in (None, "") and any(re.search(x, str(v)) for x in t),
    "NOT_REGEX_MATCH": lambda v, t: v not in (None, "") and not any(re.search(x, str(v)) for x in t),
    "ENDS_WITH": lambda v, t: v not in (None, "") and any(str(v).endswith(x) for x in t),
    "INCLUDES": lambda v, t: v not in (None, "") and any(x in str(v) for x in t),
    "GREATER_THAN": lambda v, t: _int(v) is not None and all(_int(x) is not None and _int(v) > _int(x) for x in t),
    "GREATER_THAN_OR_EQUALS": lambda v, t: _int(v) is not None and all(
        _int(x) is not None and _int(v) >= _int(x) for x in t),
    "&": lambda v, t: _int(v) is not None and all(_int(x) is not None and _int(v) & _int(x) for x in t),
    "!&": lambda v, t: _int(v) is not None and all(_int(x) is not None and not _int(v) & _int(x) for x in t),
}


def scope_result(scope: Mapping[str, Any] | None, attributes: Callable[[str], Any]) -> tuple[bool, dict[str, bool]]:
    """(in scope, {"<filter>.<attribute> <OPERATOR> '<values>'": result}) for an objectMapping's scope.
    Clauses of one filter group are ANDed; groups are ORed; no groups = everyone."""
    groups = (scope or {}).get("groups") or []
    if not groups:
        return True, {}
    detail: dict[str, bool] = {}
    passed = False
    for group in groups:
        ok = True
        for clause in group.get("clauses") or []:
            name = str(clause.get("sourceOperandName") or "")
            op = _operator(clause.get("operatorName"))
            result = bool(_OPERATORS[op](attributes(name), _values(clause)))
            detail[f"{group.get('name') or 'Filter'}.{name} {op.replace('_', ' ')} "
                   f"'{', '.join(_values(clause))}'"] = result
            ok = ok and result
        passed = passed or ok
    return passed, detail
