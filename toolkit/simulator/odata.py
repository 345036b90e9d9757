"""OData pieces of the simulated Graph: error type, $filter parser/evaluator, $select, $top, opaque page tokens.

Documented behaviour followed here (graph-facts.md 6.1, 6.3, 6.4):

* ``$top`` on /users is 1..999; anything else is ``400 Request_BadRequest`` "Invalid page size specified: '1000'.
  Must be between 1 and 999 inclusive."
* ``$filter`` supports ``eq``, ``ne``, ``not``, ``in``, ``startswith``, ``and``, ``or``, lambda ``any`` over
  collections and ``/$count`` on collections. ``ne``, ``not``, ``endswith`` and ``/$count`` are *advanced
  queries*: they need ``ConsistencyLevel: eventual`` and ``$count=true``, else ``400 Request_UnsupportedQuery``.
  ``endswith`` only on mail, otherMails, userPrincipalName, proxyAddresses.
* A property that does not support the operator gets Graph's ``Request_UnsupportedQuery`` "Unsupported or invalid
  query filter clause specified for property '<p>' of resource '<Type>'."; a syntax error gets ``BadRequest``
  "Invalid filter clause" (Graph's wording for malformed $filter; it adds a parser detail the docs don't fix).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

__all__ = ["GraphFault", "ODataFilter", "parse_filter", "parse_select", "parse_top", "encode_token", "check_query_options",
           "search_matches",
           "decode_token", "project", "is_advanced"]


class GraphFault(Exception):
    """A Graph error answer: status, Graph error code and message (rendered by the server in Graph's body)."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphFault:
    return GraphFault(400, code, message)


def unsupported_query(message: str = "Unsupported Query.") -> GraphFault:
    return GraphFault(400, "Request_UnsupportedQuery", message)


def not_found(object_id: str) -> GraphFault:
    return GraphFault(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                      "are not present.")


def is_advanced(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """Advanced query capabilities: ConsistencyLevel eventual AND $count=true (graph-facts.md 6.4)."""
    level = next((v for k, v in headers.items() if k.lower() == "consistencylevel"), "")
    return level.strip().lower() == "eventual" and str(query.get("$count", "")).lower() == "true"


def has_eventual(headers: Mapping[str, str]) -> bool:
    return next((v for k, v in headers.items() if k.lower() == "consistencylevel"), "").strip().lower() == "eventual"


# --- $top / $select ---------------------------------------------------------------------------------------

def parse_top(query: Mapping[str, str], default: int, maximum: int = 999) -> int:
    raw = query.get("$top")
    if raw is None:
        return default
    try:
        top = int(raw)
    except ValueError:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.")
    if not 1 <= top <= maximum:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.")
    return top


def parse_select(query: Mapping[str, str], known: set[str], type_name: str) -> list[str] | None:
    """The $select list, checked against the type's properties (Graph: 400 for an unknown property)."""
    raw = query.get("$select")
    if raw is None or not raw.strip():
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    lower = {k.lower(): k for k in known}
    out = []
    for name in names:
        if name == "*":
            out.extend(sorted(known))
            continue
        real = lower.get(name.lower())
        if real is None:
            raise GraphFault(400, "BadRequest", f"Could not find a property named '{name}' on type '{type_name}'.")
        out.append(real)
    return list(dict.fromkeys(out))


def project(obj: Mapping[str, Any], props: list[str], collections: set[str]) -> dict[str, Any]:
    """The object reduced to ``props`` in that order; absent values are null (or [] for collections)."""
    return {p: (obj.get(p) if obj.get(p) is not None else ([] if p in collections else None)) for p in props}


# --- opaque tokens ----------------------------------------------------------------------------------------

def encode_token(data: Mapping[str, Any]) -> str:
    """Opaque to clients: URL-safe base64 of compact JSON (clients must use nextLink verbatim)."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, TypeError):
        raise bad_request("Invalid page token: the skip token was not issued by this service.") from None


# --- $filter ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PropertyRule:
    """Which $filter operators a property supports (from the Graph metadata as summarised in graph-facts 6.1)."""

    ops: frozenset[str]
    kind: str = "string"     # string | bool | guid | collection_string | licenses | datetime


_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*')|
    (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})|
    (?P<dt>\d{4}-\d{2}-\d{2}T[0-9:.]+Z)|
    (?P<num>-?\d+(?:\.\d+)?)|
    (?P<punct>[(),:])|
    (?P<word>[A-Za-z_$@][A-Za-z0-9_$@./]*)
    )""", re.VERBOSE)

_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterTokens:
    """The token stream of a ``$filter`` expression, shared by the simulator's ``$filter`` parsers (users and
    groups here, audit logs in ``auditlogs.py``): tokenizing with the parser's own pattern, Graph's error shapes,
    and the cursor. ``unquote`` turns ``'it''s'`` tokens into ``it's``."""

    def __init__(self, text: str, resource: str, token_re: re.Pattern[str], *, unquote: bool):
        self.text, self.resource = text, resource
        self.tokens: list[tuple[str, Any]] = []
        pos = 0
        while pos < len(text) and text[pos:].strip():
            m = token_re.match(text, pos)
            if not m or m.end() == pos:
                raise self.syntax(f"unexpected character at position {pos}")
            kind = m.lastgroup or ""
            val: Any = m.group(kind)
            if kind == "str" and unquote:
                val = val[1:-1].replace("''", "'")
            self.tokens.append((kind, val))
            pos = m.end()
        self.i = 0

    def syntax(self, detail: str) -> GraphFault:
        return GraphFault(400, "BadRequest", f"Invalid filter clause: {detail} in '{self.text}'.")

    def unsupported(self, prop: str) -> GraphFault:
        return unsupported_query(f"Unsupported or invalid query filter clause specified for property '{prop}' "
                                 f"of resource '{self.resource}'.")

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise self.syntax("unexpected end of expression")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        _kind, val = self.take()
        if val != value:
            raise self.syntax(f"expected '{value}' but found '{val}'")

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and str(tok[1]).lower() == word


class _Parser(FilterTokens):
    def __init__(self, text: str, rules: Mapping[str, PropertyRule], resource: str):
        super().__init__(text, resource, _TOKEN, unquote=True)
        self.rules = rules
        self.advanced = False

    # grammar: or -> and ('or' and)* ; and -> unary ('and' unary)* ; unary -> 'not' unary | primary
    def parse(self) -> Callable[[Mapping[str, Any]], bool]:
        pred = self.parse_or()
        if self.peek() is not None:
            raise self.syntax(f"unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return pred

    def parse_or(self) -> Callable[[Mapping[str, Any]], bool]:
        parts = [self.parse_and()]
        while self.is_word("or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda o, ps=parts: any(p(o) for p in ps))

    def parse_and(self) -> Callable[[Mapping[str, Any]], bool]:
        parts = [self.parse_unary()]
        while self.is_word("and"):
            self.take()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else (lambda o, ps=parts: all(p(o) for p in ps))

    def parse_unary(self) -> Callable[[Mapping[str, Any]], bool]:
        if self.is_word("not"):
            self.take()
            self.advanced = True
            inner = self.parse_unary()
            return lambda o: not inner(o)
        return self.parse_primary()

    def literal(self) -> Any:
        kind, val = self.take()
        if kind == "str":
            return val
        if kind == "guid":
            return val.lower()
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "dt":
            return val
        if kind == "word" and val.lower() in ("true", "false"):
            return val.lower() == "true"
        if kind == "word" and val.lower() == "null":
            return None
        raise self.syntax(f"expected a literal but found '{val}'")

    def rule(self, prop: str) -> tuple[str, PropertyRule]:
        lower = {k.lower(): k for k in self.rules}
        real = lower.get(prop.lower())
        if real is None:
            raise GraphFault(400, "BadRequest",
                             f"Could not find a property named '{prop}' on type 'microsoft.graph.{self.resource.lower()}'.")
        return real, self.rules[real]

    def parse_primary(self) -> Callable[[Mapping[str, Any]], bool]:
        tok = self.peek()
        if tok is None:
            raise self.syntax("unexpected end of expression")
        if tok[1] == "(":
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        kind, word = self.take()
        if kind != "word":
            raise self.syntax(f"unexpected '{word}'")
        if word.lower() in ("startswith", "endswith"):
            func = word.lower()
            self.expect("(")
            _, prop = self.take()
            self.expect(",")
            value = self.literal()
            self.expect(")")
            real, rule = self.rule(prop)
            if func not in rule.ops or not isinstance(value, str):
                raise self.unsupported(real)
            if func == "endswith":
                self.advanced = True
            needle = value.lower()
            if rule.kind == "collection_string":
                if func == "startswith":
                    return lambda o: any(str(x).lower().startswith(needle) for x in o.get(real) or [])
                return lambda o: any(str(x).lower().endswith(needle) for x in o.get(real) or [])
            if func == "startswith":
                return lambda o: str(o.get(real) or "").lower().startswith(needle) and o.get(real) is not None
            return lambda o: o.get(real) is not None and str(o.get(real)).lower().endswith(needle)
        # property path: prop | prop/$count | prop/any(x:x/sub eq v) | prop/any(x:x eq v)
        if "/" in word:
            head, _, tail = word.partition("/")
            real, rule = self.rule(head)
            if rule.kind == "extension":
                return self.parse_extension(real, rule, tail)
            if tail == "$count":
                if "$count" not in rule.ops:
                    raise self.unsupported(real)
                self.advanced = True
                _, op = self.take()
                if op not in ("eq", "ne"):
                    raise self.unsupported(real)
                value = self.literal()
                if not isinstance(value, int):
                    raise self.syntax("$count compares with a number")
                if op == "eq":
                    return lambda o: len(o.get(real) or []) == value
                return lambda o: len(o.get(real) or []) != value
            if tail.lower() == "any":
                if "any" not in rule.ops:
                    raise self.unsupported(real)
                return self.parse_any(real, rule)
            raise self.unsupported(word)
        real, rule = self.rule(word)
        if rule.kind == "extension":              # only its members can be filtered, never the complex type
            raise self.unsupported(real)
        op = str(self.take()[1]).lower()
        if op == "in":
            if "in" not in rule.ops:
                raise self.unsupported(real)
            self.expect("(")
            values = [self.literal()]
            while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                self.take()
                values.append(self.literal())
            self.expect(")")
            wanted = {_norm(v) for v in values}
            return lambda o: _norm(o.get(real)) in wanted
        if op not in _COMPARE:
            raise self.syntax(f"unknown operator '{op}'")
        if op not in rule.ops:
            raise self.unsupported(real)
        value = self.literal()
        if op == "ne":
            self.advanced = True
        if rule.kind == "bool" and value is not None and not isinstance(value, bool):
            raise self.unsupported(real)
        target = _norm(value)
        if op == "eq":
            return lambda o: _norm(o.get(real)) == target
        if op == "ne":
            return lambda o: _norm(o.get(real)) != target
        cmp = {"gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
               "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}[op]
        return lambda o: o.get(real) is not None and cmp(_norm(o.get(real)), target)

    def parse_extension(self, real: str, rule: PropertyRule, tail: str) -> Callable[[Mapping[str, Any]], bool]:
        """``onPremisesExtensionAttributes/extensionAttributeN eq|ne 'v'|null`` or ``in (...)``.

        Microsoft documents it as an advanced query (ConsistencyLevel: eventual + $count=true;
        microsoft-graph-docs concepts/extensibility-overview.md, the onPremisesExtensionAttributes example).
        """
        names = {f"extensionattribute{n}": f"extensionAttribute{n}" for n in range(1, 16)}
        name = names.get(tail.lower())
        if name is None:
            raise GraphFault(400, "BadRequest", f"Could not find a property named '{tail}' on type "
                             "'microsoft.graph.onPremisesExtensionAttributes'.")
        self.advanced = True
        op = str(self.take()[1]).lower()
        if op not in rule.ops:
            raise self.unsupported(f"{real}/{name}")

        def value_of(o: Mapping[str, Any]) -> Any:
            ext = o.get(real)
            return _norm(ext.get(name)) if isinstance(ext, Mapping) else None
        if op == "in":
            self.expect("(")
            values = [self.literal()]
            while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                self.take()
                values.append(self.literal())
            self.expect(")")
            wanted = {_norm(v) for v in values}
            return lambda o: value_of(o) in wanted
        target = _norm(self.literal())
        if op == "eq":
            return lambda o: value_of(o) == target
        return lambda o: value_of(o) != target

    def parse_any(self, real: str, rule: PropertyRule) -> Callable[[Mapping[str, Any]], bool]:
        self.expect("(")
        _, var = self.take()
        self.expect(":")
        _, path = self.take()
        if path == var:
            sub = None
        elif path.startswith(var + "/"):
            sub = path[len(var) + 1:]
        else:
            raise self.syntax(f"lambda variable '{var}' expected")
        _, op = self.take()
        if op not in ("eq", "in"):
            raise self.unsupported(real)
        if op == "in":
            self.expect("(")
            values = [self.literal()]
            while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                self.take()
                values.append(self.literal())
            self.expect(")")
        else:
            values = [self.literal()]
        self.expect(")")
        if rule.kind == "licenses" and sub != "skuId":
            raise self.unsupported(f"{real}/{sub}")
        if rule.kind == "collection_string" and sub is not None:
            raise self.unsupported(f"{real}/{sub}")
        wanted = {_norm(v) for v in values}

        def match(o: Mapping[str, Any]) -> bool:
            for item in o.get(real) or []:
                val = item.get(sub) if sub and isinstance(item, Mapping) else item
                if _norm(val) in wanted:
                    return True
            return False
        return match


def _norm(value: Any) -> Any:
    # Graph compares strings case-insensitively in directory filters
    return value.lower() if isinstance(value, str) else value


class ODataFilter:
    """A parsed $filter: ``matches(obj)``, and whether it needs advanced query capabilities."""

    def __init__(self, predicate: Callable[[Mapping[str, Any]], bool], advanced: bool):
        self.matches, self.advanced = predicate, advanced


def parse_filter(text: str, rules: Mapping[str, PropertyRule], resource: str) -> ODataFilter:
    parser = _Parser(text, rules, resource)
    pred = parser.parse()
    return ODataFilter(pred, parser.advanced)


def _rules(spec: Mapping[str, tuple[str, str]]) -> dict[str, PropertyRule]:
    return {name: PropertyRule(frozenset(ops.split()), kind) for name, (ops, kind) in spec.items()}


_S = "eq ne not in startsWith startswith"
# $filter support per user property (Graph metadata, graph-facts 6.1; endsWith only on the four documented ones)
USER_FILTERS = _rules({
    "id": ("eq ne not in", "guid"), "userPrincipalName": (_S + " endswith", "string"),
    "mail": (_S + " endswith", "string"), "displayName": (_S, "string"), "givenName": (_S, "string"),
    "surname": (_S, "string"), "mailNickname": (_S, "string"), "userType": ("eq ne not in", "string"),
    "creationType": ("eq ne not in", "string"), "externalUserState": ("eq ne not in", "string"),
    "accountEnabled": ("eq ne not in", "bool"), "usageLocation": (_S + " ge le", "string"),
    "department": (_S, "string"), "jobTitle": (_S, "string"), "companyName": (_S, "string"),
    "employeeId": (_S + " ge le", "string"), "employeeType": (_S, "string"), "country": (_S, "string"),
    "city": (_S, "string"), "state": (_S, "string"), "officeLocation": (_S, "string"),
    "postalCode": (_S, "string"), "preferredLanguage": ("eq ne not in", "string"),
    "onPremisesImmutableId": ("eq ne not in ge le", "string"), "onPremisesSyncEnabled": ("eq ne not in", "bool"),
    "onPremisesSamAccountName": (_S, "string"), "createdDateTime": ("eq ne not in ge le gt lt", "datetime"),
    "assignedLicenses": ("any $count", "licenses"), "otherMails": ("any $count endswith", "collection_string"),
    "proxyAddresses": ("any $count endswith", "collection_string"),
    "businessPhones": ("any $count", "collection_string"), "mobilePhone": (_S, "string"),
    # onPremisesExtensionAttributes/extensionAttribute1..15 (advanced query; see _Parser.parse_extension)
    "onPremisesExtensionAttributes": ("eq ne in", "extension"),
})

GROUP_FILTERS = _rules({
    "id": ("eq ne not in", "guid"), "displayName": (_S, "string"), "mailNickname": (_S, "string"),
    "mail": (_S + " endswith", "string"), "securityEnabled": ("eq ne not in", "bool"),
    "mailEnabled": ("eq ne not in", "bool"), "groupTypes": ("any", "collection_string"),
    "description": (_S, "string"), "assignedLicenses": ("any $count", "licenses"),
    "createdDateTime": ("eq ne not in ge le gt lt", "datetime"),
})


def new_snapshot_key() -> str:
    return uuid.uuid4().hex[:16]


# --- $search / $expand ------------------------------------------------------------------------------------

# Navigation properties of user and group in v1.0 that $expand may name (user and group resource pages).
_NAVIGATION = {
    "user": {"manager", "directreports", "memberof", "transitivememberof", "ownedobjects", "owneddevices",
             "registereddevices", "createdobjects", "licensedetails", "extensions", "approleassignments",
             "oauth2permissiongrants", "sponsors"},
    "group": {"members", "transitivemembers", "memberof", "transitivememberof", "owners", "createdonbehalfof",
              "extensions", "approleassignments", "settings"},
}
# Navigation properties a simulator module really expands (it registers them here, e.g. manager.py adds "manager");
# the rest are refused with 501 rather than silently ignored.
MODELLED_EXPANSIONS: dict[str, set[str]] = {"user": set(), "group": set()}
# Properties $search can name (tokenized search on directory objects: aad-advanced-queries.md).
_SEARCHABLE = {"user": {"displayname", "mail", "userprincipalname", "givenname", "surname", "mailnickname",
                        "othermails", "proxyaddresses", "jobtitle", "department"},
               "group": {"displayname", "description", "mail", "mailnickname", "proxyaddresses"}}
_SEARCH_CLAUSE = re.compile(r'^"(?P<prop>[A-Za-z]+):(?P<value>[^"]*)"$')


def check_query_options(headers: Mapping[str, str], query: Mapping[str, str], type_name: str, *,
                        searchable: bool) -> None:
    """Refuse the $search and $expand that Graph refuses, instead of ignoring them (docs/graph-facts.md 6.4).

    * ``$search`` needs ``ConsistencyLevel: eventual`` (else ``Request_UnsupportedQuery``), works on collections
      only, and each clause is ``"property:value"`` on a searchable property.
    * ``$expand`` is not supported together with advanced queries, and only navigation properties expand.
    """
    search = next((v for k, v in query.items() if k.lower() == "$search"), None)
    if search is not None:
        if not searchable:
            raise bad_request("Query option '$search' is not allowed for this request.", "BadRequest")
        if not has_eventual(headers):
            raise unsupported_query("Request with $search query parameter only works through MSGraph with a "
                                    "special request header: 'ConsistencyLevel: eventual'")
        for clause in _search_clauses(search):
            m = _SEARCH_CLAUSE.match(clause)
            if not m or m.group("prop").lower() not in _SEARCHABLE[type_name]:
                raise unsupported_query(f"Unsupported or invalid query search clause specified: {clause}")
    expand = next((v for k, v in query.items() if k.lower() == "$expand"), None)
    if expand is not None:
        if is_advanced(headers, query):
            raise unsupported_query("The $expand query option is not supported with advanced queries "
                                    "(ConsistencyLevel: eventual and $count).")
        for name in (n.strip().split("(")[0] for n in _top_level_items(expand) if n.strip()):
            if name.lower() not in _NAVIGATION[type_name]:
                raise GraphFault(400, "BadRequest", f"Property '{name}' on type 'microsoft.graph.{type_name}' is "
                                 "not a navigation property or complex property. Only navigation properties can "
                                 "be expanded.")
            if name.lower() in MODELLED_EXPANSIONS[type_name]:
                continue
            # Graph expands these; the simulator does not model them, and says so rather than ignore them.
            raise GraphFault(501, "NotImplemented", f"$expand={name} is not modelled by the ccsync simulator.")


def _top_level_items(text: str) -> list[str]:
    """Split an ``$expand`` list on the commas outside parentheses (``manager($select=id,displayName),memberOf``)."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def _search_clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"\s+(?:AND|OR)\s+", text.strip()) if c.strip()]


def search_matches(text: str, obj: Mapping[str, Any], default_props: tuple[str, ...]) -> bool:
    """Tokenized $search: a clause matches when a word of the property starts with the value (any clause:
    OR; the docs' AND is approximated as OR too; fine for the look-ups ccsync and tests make)."""
    for clause in _search_clauses(text):
        m = _SEARCH_CLAUSE.match(clause)
        if not m:
            continue
        prop = next((p for p in obj if p.lower() == m.group("prop").lower()), m.group("prop"))
        value = m.group("value").lower()
        raw = obj.get(prop)
        values = raw if isinstance(raw, list) else [raw]
        for v in values:
            words = re.split(r"[\s@._\-:]+", str(v or "").lower())
            if str(v or "").lower().startswith(value) or any(w.startswith(value) for w in words if w):
                return True
    return False
