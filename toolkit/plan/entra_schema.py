"""Entra's synchronization schema, read as ccsync's mapping and scoping, with what ccsync cannot evaluate named.

Input: the JSON of ``GET /servicePrincipals/{id}/synchronization/jobs/{jobId}/schema`` as Microsoft documents
it (Graph v1.0 resources synchronizationSchema, synchronizationRule, objectMapping, attributeMapping,
attributeMappingSource, filter, filterGroup, filterClause, filterOperand; summarised in ``docs/entra-engine.md``).

Output: an :class:`EntraSchema` holding, for the user object mapping of the cross-tenant rule
(``USER_INBOUND_USER``: source object ``User`` -> target object ``User``):

* one :class:`EntraAttribute` per attribute mapping, with its role (``attribute``, ``matching`` for the
  ``alternativeSecurityIds`` anchor, ``internal`` for Entra's own ``IsSoftDeleted``), the translated ccsync
  :class:`~toolkit.plan.rules.MappingRule` when ccsync can evaluate it, and otherwise ``problem``: the reason a
  prediction for that attribute is impossible ("cannot predict"), never a guess;
* the scoping filter (``scope.groups``: clauses ANDed inside a group, groups ORed) as clauses ccsync evaluates
  with the direct planner's :class:`~toolkit.plan.rules.Clause`, each clause it cannot evaluate kept with its
  reason, so that the predictor can use three-valued logic (a user is in scope, out of scope, or unknown);
* the object mapping's ``flowTypes`` (Add / Update / Delete), ``enabled``, and schema-level problems.

How Entra's fields become ccsync's:

===========================  =====================================================================================
flowType ``Always``          ccsync ``always`` (written on create and whenever the value differs)
flowType ``ObjectAddOnly``   ccsync ``once`` (portal "Apply this mapping: Only during object creation")
flowType ``AttributeAddOnly`` written when the user is created, or when the target has no value at all
other flowTypes              ``MultiValueAddOnly``/``ValueAddOnly`` on a single-valued attribute: Microsoft does not
                             say what they do, so "cannot predict" for updates
flowBehavior ``FlowAlways``  Microsoft does not say whether an unchanged value is re-exported: updates of that
                             attribute "cannot predict"; ``FlowWhenChanged`` (default) is what ccsync compares
defaultValue                 used when the source expression gives null (``Coalesce(expression, "default")``)
source type ``Attribute``    ``[name]``; ``Constant``: ``"name"``; ``Function``: its ``expression`` text, parsed
                             with ccsync's expression parser (a function ccsync lacks -> "cannot predict")
===========================  =====================================================================================

Scoping operators arrive as Graph names (``EQUALS``, ``NOT_EQUALS``, ``IS_TRUE``, ...; Graph documents only
``EQUALS`` in its filterOperators example) or as the portal spells them (``NOT EQUALS``, ``Greater_Than``); both
are accepted. ``&`` and ``!&`` are described by Microsoft only as "the evaluated attribute exists / does not exist
in the input string value", which does not say how they compare: ccsync does not guess, it says "cannot predict".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ..errors import InputError
from .expressions import parse_expression
from .rules import (CROSS_CLOUD_REFUSED, OPERATORS, REFUSED_TARGETS, WRITE_ONLY_TARGETS, Clause, Mapping,
                    MappingRule)

__all__ = ["EntraAttribute", "EntraClause", "EntraSchema", "translate_schema", "load_schema", "schema_digest",
           "MATCHING_TARGET", "INTERNAL_SOURCES", "SCHEMA_COLUMNS"]

# Entra's matching anchor for cross-tenant sync ([CTS-PORTAL] step 9: AltSecIdFromNetId([netId]) ->
# alternativeSecurityIds, precedence 1; "adding more matching attributes causes schemaInvalid").
MATCHING_TARGET = "alternativeSecurityIds"
# Source attributes that only Entra's provisioning service sees (not Graph user properties ccsync exports).
INTERNAL_SOURCES = {"netId", "IsSoftDeleted", "isSoftDeleted", "appRoleAssignments", "objectId"}
# Target attributes Entra manages itself during the cycle: soft delete is predicted from scope, not compared.
_INTERNAL_TARGETS = {"IsSoftDeleted", "isSoftDeleted"}
_PREDICTABLE_FLOWS = {"Always", "ObjectAddOnly", "AttributeAddOnly"}
# The invited address: written when the user is created; later updates are blocked by source-of-authority
# enforcement for synced B2B users ("currently Mail and showInAddressList", howto-analyze-provisioning-logs.md),
# and the service may retry without it: what lands is not documented.
_CREATE_ONLY_TARGETS = {"mail": "Entra's source-of-authority enforcement blocks Mail updates on synced B2B users "
                                "and may retry without it (provisioning-log error table)"}
# Microsoft does not document how a mapped value becomes the target's value.
_UNDOCUMENTED_TARGETS = {"userPrincipalName": "Microsoft does not document how a source UPN becomes the UPN of the "
                                              "external user the job creates (alias_domain#EXT#@... for "
                                              "invitations)"}
# Entra's known issues: attributes that cannot be used in scoping filters (rules.py refuses them in scope files).
_UNSUPPORTED_SCOPING = {"userType", "manager", "appRoleAssignments", "createdDateTime",
                        "onPremisesLastSyncDateTime", "externalUserStateChangeDateTime"}
_UNARY = {"IS FALSE", "IS NOT NULL", "IS NULL", "IS TRUE"}
_AMBIGUOUS_OPERATORS = {
    "&": "Microsoft documents '&' only as 'the evaluated attribute exists in the input string value', which "
         "does not say how it compares",
    "!&": "Microsoft documents '!&' only as 'the evaluated attribute does not exist in the input string value', "
          "which does not say how it compares",
}
# The plan workbook's sheet of mappings "as the portal shows them" (Attribute mapping page columns).
SCHEMA_COLUMNS = ["sourceAttribute", "targetAttribute", "mappingType", "applyThisMapping", "matchingPrecedence",
                  "defaultValue", "ccsyncEvaluates", "note"]


@dataclass(frozen=True)
class EntraAttribute:
    target: str
    expression: str | None          # Entra's expression text (None when the source is null: defaultValue only)
    source_type: str                # Attribute | Constant | Function | None
    flow_type: str
    flow_behavior: str
    matching_priority: int
    default_value: str | None
    role: str                       # attribute | matching | internal
    rule: MappingRule | None        # ccsync's translation (None when ccsync cannot evaluate it)
    problem: str | None = None      # why the attribute cannot be predicted at all
    update_problem: str | None = None  # why updates (not creates) of it cannot be predicted

    @property
    def once(self) -> bool:
        return self.flow_type == "ObjectAddOnly"

    @property
    def add_only(self) -> bool:
        return self.flow_type == "AttributeAddOnly"

    def portal_row(self) -> dict[str, Any]:
        mapping_type = {"Attribute": "Direct", "Constant": "Constant", "Function": "Expression"}.get(
            self.source_type or "", "None")
        apply = {"Always": "Always", "ObjectAddOnly": "Only during object creation"}.get(self.flow_type,
                                                                                     self.flow_type)
        shown = self.expression if self.source_type != "Attribute" else (self.expression or "").strip("[]")
        note = self.problem or self.update_problem or (
            "matching anchor: Entra links users by it; Graph does not show it, so ccsync reads the links "
            "from the job's provisioning logs" if self.role == "matching" else
            "Entra's own soft-delete flag: predicted from scope" if self.role == "internal" else "")
        return {"sourceAttribute": shown, "targetAttribute": self.target, "mappingType": mapping_type,
                "applyThisMapping": apply, "matchingPrecedence": self.matching_priority or None,
                "defaultValue": self.default_value, "ccsyncEvaluates": self.rule is not None and not self.problem,
                "note": note}


@dataclass(frozen=True)
class EntraClause:
    attribute: str
    operator: str                   # as written in the schema
    values: tuple[str, ...]
    clause: Clause | None           # ccsync's clause, or None with a problem
    problem: str | None = None

    def describe(self) -> str:
        vals = " ".join(json.dumps(v) for v in self.values)
        return f"{self.attribute} {self.operator}" + (f" {vals}" if vals else "")


@dataclass(frozen=True)
class EntraSchema:
    digest: str                     # SHA-256 of the canonical JSON of the whole schema document
    version: str | None
    rule_id: str | None
    rule_name: str | None
    mapping_name: str | None
    enabled: bool
    flow_types: frozenset[str]      # of Add, Update, Delete
    attributes: tuple[EntraAttribute, ...]
    scope_groups: tuple[tuple[str, tuple[EntraClause, ...]], ...]   # (filter group name, clauses)
    problems: tuple[str, ...] = ()  # schema-level: every user's outcome is affected
    other_mappings: tuple[str, ...] = field(default=())             # object mappings ccsync does not plan

    # --- views ------------------------------------------------------------------------------------------
    def mapping(self) -> Mapping:
        """The attributes ccsync evaluates, as a ccsync :class:`Mapping` (for the planner's value machinery)."""
        rules = tuple(a.rule for a in self.attributes if a.rule is not None and not a.problem)
        text = "\n".join(f"{'once ' if r.once else ''}{r.target} = {r.expression.text}" for r in rules)
        return Mapping(rules, f"job schema {self.version or ''}".strip(), text)

    def attribute(self, target: str) -> EntraAttribute | None:
        return next((a for a in self.attributes if a.target == target), None)

    def unpredictable(self) -> dict[str, str]:
        """Target attribute -> reason, for every attribute ccsync cannot predict at all."""
        return {a.target: a.problem for a in self.attributes if a.problem}

    def scope_problems(self) -> list[str]:
        return [f"scoping filter '{name}': {c.describe()}: {c.problem}"
                for name, clauses in self.scope_groups for c in clauses if c.problem]

    def portal_frame(self) -> pd.DataFrame:
        """The mappings as the portal's Attribute mapping page lists them, plus what ccsync makes of each."""
        rows = [a.portal_row() for a in self.attributes]
        return pd.DataFrame(rows, columns=SCHEMA_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """The plan file's summary of the schema the plan was computed from."""
        return {
            "sha256": self.digest, "version": self.version, "ruleId": self.rule_id, "ruleName": self.rule_name,
            "objectMapping": self.mapping_name, "enabled": self.enabled, "flowTypes": sorted(self.flow_types),
            "attributes": [{"target": a.target, "expression": a.expression, "flowType": a.flow_type,
                            "flowBehavior": a.flow_behavior, "matchingPriority": a.matching_priority,
                            "defaultValue": a.default_value, "role": a.role,
                            "cannotPredict": a.problem or a.update_problem} for a in self.attributes],
            "scopingFilters": [{"name": name, "clauses": [{"clause": c.describe(), "cannotPredict": c.problem}
                                                          for c in clauses]} for name, clauses in self.scope_groups],
            "problems": list(self.problems),
        }


def schema_digest(document: dict) -> str:
    """SHA-256 of the schema's canonical JSON (OData annotations dropped), so a plan can tell it changed."""
    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if not k.startswith("@odata.")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    text = json.dumps(strip(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_schema(path: str | Path) -> dict:
    """A schema saved from Graph (or the portal's schema editor 'Download'), as a dict."""
    p = Path(path)
    try:
        document = json.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"cannot read the schema: {exc.strerror}", source=str(p), hint="Check the path.") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"the schema is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
                         source=str(p), hint="Save it again from Graph or the portal's schema editor.") from exc
    if not isinstance(document, dict):
        raise InputError("the schema must be a JSON object with synchronizationRules", source=str(p))
    return document


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _source_text(source: dict | None) -> tuple[str | None, str | None]:
    """(expression text, source type) of an attributeMappingSource."""
    if not source:
        return None, None
    kind = source.get("type") or "Attribute"          # documented default: Attribute
    text = source.get("expression")
    if kind == "Attribute" and not text and source.get("name"):
        text = f"[{source['name']}]"
    elif kind == "Constant" and text is None and source.get("name") is not None:
        text = _quote(str(source["name"]))
    return (text.strip() if isinstance(text, str) else None), kind


def _attribute(raw: dict, pair_kind: str | None) -> EntraAttribute:
    target = str(raw.get("targetAttributeName") or "")
    text, kind = _source_text(raw.get("source"))
    flow_type = raw.get("flowType") or "Always"
    flow_behavior = raw.get("flowBehavior") or "FlowWhenChanged"
    priority = int(raw.get("matchingPriority") or 0)
    default = raw.get("defaultValue")
    common = dict(target=target, expression=text, source_type=kind, flow_type=flow_type,
                  flow_behavior=flow_behavior, matching_priority=priority, default_value=default)
    if target == MATCHING_TARGET or priority > 0:
        return EntraAttribute(**common, role="matching", rule=None)
    if target in _INTERNAL_TARGETS:
        return EntraAttribute(**common, role="internal", rule=None)
    if pair_kind == "cross-cloud" and target in CROSS_CLOUD_REFUSED:
        return EntraAttribute(**common, role="attribute", rule=None,
                              problem=f"never planned: {CROSS_CLOUD_REFUSED[target]}")
    if target in _UNDOCUMENTED_TARGETS:
        return EntraAttribute(**common, role="attribute", rule=None,
                              problem=f"cannot predict: {_UNDOCUMENTED_TARGETS[target]}")
    if target in REFUSED_TARGETS and target not in _CREATE_ONLY_TARGETS:
        return EntraAttribute(**common, role="attribute", rule=None,
                              problem=f"cannot predict: {REFUSED_TARGETS[target]}")
    if target in _CREATE_ONLY_TARGETS:
        update_problem = f"cannot predict updates: {_CREATE_ONLY_TARGETS[target]}"
    elif flow_type not in _PREDICTABLE_FLOWS:
        update_problem = (f"cannot predict updates: Microsoft does not document what flowType {flow_type} does "
                          "on a single-valued attribute")
    elif flow_behavior != "FlowWhenChanged":
        update_problem = (f"cannot predict updates: Microsoft does not document whether flowBehavior "
                          f"{flow_behavior} re-exports a value that has not changed")
    elif target in WRITE_ONLY_TARGETS:
        update_problem = "cannot predict updates: Graph does not return it, so ccsync cannot compare it"
    else:
        update_problem = None
    if text is None and default is None:
        return EntraAttribute(**common, role="attribute", rule=None,
                              problem="cannot predict: the mapping has neither a source nor a default value")
    expr_text = text if text is not None else _quote(str(default))
    try:
        expression = parse_expression(expr_text)
    except InputError as exc:
        return EntraAttribute(**common, role="attribute", rule=None,
                              problem=f"cannot predict: ccsync does not evaluate {expr_text!r} ({exc.message})")
    internal = sorted(expression.attributes & INTERNAL_SOURCES)
    if internal:
        return EntraAttribute(**common, role="attribute", rule=None,
                              problem=f"cannot predict: it reads {', '.join(internal)}, which only Entra's "
                                      "provisioning service sees")
    if default is not None and text is not None:
        # Documented: defaultValue is used when the source evaluates to null.
        expression = parse_expression(f"Coalesce({text}, {_quote(str(default))})")
    rule = MappingRule(target, expression, once=flow_type == "ObjectAddOnly", line=0)
    return EntraAttribute(**common, role="attribute", rule=rule, update_problem=update_problem)


def _normalise_operator(name: str) -> str | None:
    upper = (name or "").strip().upper()
    for candidate in (upper, upper.replace("_", " "), upper.replace(" ", "_")):
        if candidate in OPERATORS:
            return candidate
    # Graph names mix both: GREATER_THAN_OR_EQUALS stays, IS_NOT_NULL becomes IS NOT NULL.
    spaced = upper.replace("_", " ")
    for op in OPERATORS:
        if op.replace("_", " ") == spaced:
            return op
    return None


def _clause(raw: dict) -> EntraClause:
    attr = str(raw.get("sourceOperandName") or "")
    op_name = str(raw.get("operatorName") or "")
    values = tuple(str(v) for v in ((raw.get("targetOperand") or {}).get("values") or []))
    base = dict(attribute=attr, operator=op_name, values=values)
    op = _normalise_operator(op_name)
    if op is None:
        return EntraClause(**base, clause=None, problem=f"cannot predict: ccsync does not know the operator "
                                                        f"{op_name!r}")
    if op in _AMBIGUOUS_OPERATORS:
        return EntraClause(**base, clause=None, problem=f"cannot predict: {_AMBIGUOUS_OPERATORS[op]}")
    if attr in _UNSUPPORTED_SCOPING or attr in INTERNAL_SOURCES:
        return EntraClause(**base, clause=None, problem=f"cannot predict: Entra does not support {attr} in scoping "
                                                        "filters (known issues), or only its service sees it")
    if op in _UNARY:
        if values:
            return EntraClause(**base, clause=None, problem=f"cannot predict: {op} with a value")
        return EntraClause(**base, clause=Clause(attr, op, None, 0))
    if len(values) != 1:
        return EntraClause(**base, clause=None, problem=f"cannot predict: {len(values)} values for {op} "
                                                        "(the portal writes exactly one)")
    if op in ("GREATER_THAN", "GREATER_THAN_OR_EQUALS"):
        try:
            int(values[0])
        except ValueError:
            return EntraClause(**base, clause=None, problem=f"cannot predict: {op} needs an integer value "
                                                            f"(documented), not {values[0]!r}")
    return EntraClause(**base, clause=Clause(attr, op, values[0], 0))


def _user_mapping(document: dict) -> tuple[dict | None, dict | None, list[str]]:
    """(rule, the User -> User object mapping, names of other object mappings)."""
    rules = document.get("synchronizationRules")
    if not isinstance(rules, list) or not rules:
        raise InputError("the schema has no synchronizationRules",
                         hint="Give the JSON of GET /servicePrincipals/{id}/synchronization/jobs/{jobId}/schema.")
    found: tuple[dict | None, dict | None] = (None, None)
    others: list[str] = []
    for rule in rules:
        for om in rule.get("objectMappings") or []:
            is_user = (str(om.get("sourceObjectName", "")).lower() == "user"
                       and str(om.get("targetObjectName", "")).lower() == "user")
            if is_user and found[1] is None:
                found = (rule, om)
            else:
                others.append(str(om.get("name") or f"{om.get('sourceObjectName')} -> {om.get('targetObjectName')}"))
    return found[0], found[1], others


def translate_schema(document: dict, *, pair_kind: str | None = None) -> EntraSchema:
    """Translate a synchronization schema document into ccsync's terms (pure; reads nothing else).

    ``pair_kind`` ("same-cloud" / "cross-cloud") decides whether ``manager`` is never planned.
    """
    rule, om, others = _user_mapping(document)
    if om is None:
        raise InputError("the schema has no object mapping from User to User",
                         hint="Use the schema of a cross-tenant synchronization job (rule USER_INBOUND_USER).")
    problems: list[str] = []
    attributes = tuple(_attribute(a, pair_kind) for a in om.get("attributeMappings") or [])
    seen: set[str] = set()
    for a in attributes:
        if a.target in seen:
            problems.append(f"cannot predict: '{a.target}' is mapped twice")
        seen.add(a.target)
    matching = [a for a in attributes if a.role == "matching"]
    if [a.target for a in matching] != [MATCHING_TARGET]:
        # [CTS-PORTAL]: the matching attribute cannot be changed; more matching attributes -> schemaInvalid.
        problems.append("cannot predict: the schema matches on "
                        f"{', '.join(a.target for a in matching) or 'nothing'}; cross-tenant sync matches only on "
                        f"{MATCHING_TARGET} (Entra reports schemaInvalid otherwise)")
    scope = om.get("scope") or {}
    for experimental in ("inputFilterGroups", "categoryFilterGroups"):
        if scope.get(experimental):
            problems.append(f"cannot predict: the scope uses {experimental}, which Microsoft documents only as "
                            "experimental")
    groups = tuple((str(g.get("name") or f"filter {i + 1}"), tuple(_clause(c) for c in g.get("clauses") or []))
                   for i, g in enumerate(scope.get("groups") or []))
    flow_text = om.get("flowTypes")
    # Documented default: "Add, Update, Delete".
    flow_types = frozenset(p.strip() for p in (flow_text if flow_text is not None else "Add, Update, Delete")
                           .split(",") if p.strip())
    return EntraSchema(
        digest=schema_digest(document), version=document.get("version"), rule_id=(rule or {}).get("id"),
        rule_name=(rule or {}).get("name"), mapping_name=om.get("name"),
        enabled=om.get("enabled", True) is not False, flow_types=flow_types, attributes=attributes,
        scope_groups=groups, problems=tuple(problems), other_mappings=tuple(others))


def evaluate_scope(schema: EntraSchema, users: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Three-valued scoping over ``users``: (in scope, unknown, reason for unknown) masks/texts.

    A group is true when all its clauses are true, false when any clause is (known) false, else unknown; the
    filter is true when any group is true, false when all groups are false, else unknown. No groups: everyone.
    A clause on an attribute the export lacks is unknown for every user.
    """
    index = users.index
    if not schema.scope_groups:
        return (pd.Series(True, index=index), pd.Series(False, index=index),
                pd.Series([None] * len(index), index=index, dtype="object"))
    any_true = pd.Series(False, index=index)
    all_false = pd.Series(True, index=index)
    reasons = pd.Series([None] * len(index), index=index, dtype="object")
    for name, clauses in schema.scope_groups:
        g_true = pd.Series(True, index=index)
        g_false = pd.Series(False, index=index)
        g_reason: str | None = None
        for c in clauses:
            problem = c.problem
            if c.clause is not None and c.attribute not in users.columns:
                problem = f"cannot predict: the source export has no attribute '{c.attribute}'"
            if problem or c.clause is None:
                g_true &= False
                g_reason = g_reason or f"scoping filter '{name}' ({c.describe()}): {problem}"
                continue
            hit = c.clause.evaluate(users)
            g_true &= hit
            g_false |= ~hit
        unknown_here = ~g_true & ~g_false
        if g_reason is not None:
            reasons = reasons.where(~(unknown_here & reasons.isna()), g_reason)
        any_true |= g_true
        all_false &= g_false
    unknown = ~any_true & ~all_false
    return any_true.astype(bool), unknown.astype(bool), reasons.where(unknown, None)


def describe_flow_types(flow_types: Iterable[str]) -> str:
    return ", ".join(sorted(flow_types)) or "none"
