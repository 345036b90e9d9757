"""The simulated Graph's ``$filter``: a token stream shared by every ``$filter`` parser, the users/groups parser
and evaluator, and the per-property operator tables of users and groups.

Documented behaviour followed here (graph-facts.md 6.1, 6.3, 6.4):

* ``$filter`` supports ``eq``, ``ne``, ``not``, ``in``, ``startswith``, ``and``, ``or``, lambda ``any`` over
  collections and ``/$count`` on collections. ``ne``, ``not``, ``endswith`` and ``/$count`` are *advanced
  queries*: they need ``ConsistencyLevel: eventual`` and ``$count=true``, else ``400 Request_UnsupportedQuery``.
  ``endswith`` only on mail, otherMails, userPrincipalName, proxyAddresses.
* A property that does not support the operator gets Graph's ``Request_UnsupportedQuery`` "Unsupported or invalid
  query filter clause specified for property '<p>' of resource '<Type>'."; a syntax error gets ``BadRequest``
  "Invalid filter clause" (Graph's wording for malformed $filter; it adds a parser detail the docs don't fix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .errors import GraphFault, unsupported_query

__all__ = ["PropertyRule", "FilterTokens", "ODataFilter", "parse_filter", "apply_filter", "USER_FILTERS",
           "GROUP_FILTERS"]


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

    # The boolean grammar both $filter dialects share: or -> and ('or' and)* ; and -> unary ('and' unary)*.
    # A dialect gives parse_primary (its comparisons and functions) and may widen parse_unary ('not').
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
        return self.parse_primary()

    def parse_primary(self) -> Callable[[Mapping[str, Any]], bool]:
        raise NotImplementedError


class _Parser(FilterTokens):
    """Users' and groups' $filter: unary -> 'not' unary | primary (a 'not' makes the query advanced)."""

    def __init__(self, text: str, rules: Mapping[str, PropertyRule], resource: str):
        super().__init__(text, resource, _TOKEN, unquote=True)
        self.rules = rules
        self.advanced = False

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


def apply_filter(objects: list[dict[str, Any]], text: str, rules: Mapping[str, PropertyRule], resource: str, *,
                 advanced: bool) -> list[dict[str, Any]]:
    """The objects matching ``$filter`` ``text``; a filter that needs advanced query capabilities in a request
    that lacks them is Graph's ``400 Request_UnsupportedQuery`` (graph-facts 6.4)."""
    flt = parse_filter(text, rules, resource)
    if flt.advanced and not advanced:
        raise unsupported_query()
    return [o for o in objects if flt.matches(o)]


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
