"""Entra's synchronization schema translated into ccsync's mapping and scoping, with "cannot predict" reasons."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.plan.entra_schema import evaluate_scope, schema_digest, translate_schema

FIXTURES = Path(__file__).parent / "fixtures" / "entra-schema"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def users(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def with_scope(doc: dict, groups: list[dict]) -> dict:
    doc = copy.deepcopy(doc)
    doc["synchronizationRules"][0]["objectMappings"][0]["scope"] = {"groups": groups}
    return doc


def clause(attr: str, op: str, *values: str) -> dict:
    return {"sourceOperandName": attr, "operatorName": op, "targetOperand": {"values": list(values)}}


def test_default_cross_tenant_schema_translates_without_problems():
    schema = translate_schema(load("azure2azure-default.json"), pair_kind="cross-cloud")
    assert schema.problems == ()
    assert schema.rule_name == "USER_INBOUND_USER" and schema.version == "v1.2"
    assert schema.flow_types == {"Add", "Update", "Delete"}
    roles = {a.target: a.role for a in schema.attributes}
    assert roles["alternativeSecurityIds"] == "matching"
    assert roles["IsSoftDeleted"] == "internal"
    mapping = schema.mapping()
    assert mapping.rule("userType").once and mapping.rule("userType").expression.text == '"Member"'
    assert not mapping.rule("displayName").once
    # showInAddressList: created, but Graph does not return it, so updates cannot be predicted (said, not guessed)
    assert "cannot predict updates" in schema.attribute("showInAddressList").update_problem
    assert schema.unpredictable() == {}


def test_documented_object_mapping_example():
    schema = translate_schema(load("objectmapping-doc-example.json"))
    frame = users({"userPrincipalName": "adelev@contoso.com", "givenName": "Adele", "surname": None,
                   "preferredLanguage": "en-GB", "mail": "adelev@contoso.com"})
    mapping = schema.mapping()
    assert mapping.rule("Alias").expression.evaluate(frame).tolist() == ["adelev@c"]
    # defaultValue is used when the source is null (documented)
    assert mapping.rule("LastName").expression.evaluate(frame).tolist() == ["."]
    assert mapping.rule("LocaleSidKey").expression.evaluate(frame).tolist() == ["en_GB"]
    assert mapping.rule("EmailEncodingKey").expression.evaluate(frame).tolist() == ["ISO-8859-1"]
    problems = schema.unpredictable()
    assert "SingleAppRoleAssignment" in problems["ProfileName"]
    assert "IsSoftDeleted" in problems["IsActive"]
    # matching on Username instead of alternativeSecurityIds is not what cross-tenant sync allows
    assert any("alternativeSecurityIds" in p for p in schema.problems)
    portal = schema.portal_frame()
    row = portal.set_index("targetAttribute").loc["Alias"]
    assert row["mappingType"] == "Expression" and row["applyThisMapping"] == "Always"
    assert bool(portal.set_index("targetAttribute").loc["ProfileName", "ccsyncEvaluates"]) is False


def test_manager_is_never_planned_across_clouds_but_is_within_a_cloud():
    doc = load("azure2azure-default.json")
    doc["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"].append(
        {"flowType": "Always", "source": {"expression": "[manager]", "name": "manager", "type": "Attribute"},
         "targetAttributeName": "manager"})
    assert "never planned" in translate_schema(doc, pair_kind="cross-cloud").unpredictable()["manager"]
    assert translate_schema(doc, pair_kind="same-cloud").mapping().rule("manager") is not None


def test_flow_types_and_behaviours():
    doc = load("azure2azure-default.json")
    om = doc["synchronizationRules"][0]["objectMappings"][0]
    om["flowTypes"] = "Add, Update"
    by_target = {a["targetAttributeName"]: a for a in om["attributeMappings"]}
    by_target["city"]["flowType"] = "AttributeAddOnly"
    by_target["state"]["flowType"] = "ValueAddOnly"
    by_target["country"]["flowBehavior"] = "FlowAlways"
    schema = translate_schema(doc)
    assert schema.flow_types == {"Add", "Update"}
    assert schema.attribute("city").add_only and schema.attribute("city").update_problem is None
    assert "ValueAddOnly" in schema.attribute("state").update_problem
    assert "FlowAlways" in schema.attribute("country").update_problem


def test_graph_and_portal_operator_spellings_evaluate_like_the_scope_file():
    doc = with_scope(load("azure2azure-default.json"), [
        {"name": "Sales", "clauses": [clause("department", "EQUALS", "Sales"), clause("accountEnabled", "IS_TRUE")]},
        {"name": "Big ids", "clauses": [clause("employeeId", "Greater_Than", "100"),
                                        clause("jobTitle", "IS_NOT_NULL")]},
    ])
    schema = translate_schema(doc)
    assert schema.scope_problems() == []
    frame = users({"department": "Sales", "accountEnabled": True, "employeeId": "5", "jobTitle": None},
                  {"department": "sales", "accountEnabled": True, "employeeId": "500", "jobTitle": "Dev"},
                  {"department": "HR", "accountEnabled": True, "employeeId": "500", "jobTitle": None},
                  {"department": "Sales", "accountEnabled": False, "employeeId": None, "jobTitle": "x"})
    in_scope, unknown, _ = evaluate_scope(schema, frame)
    assert in_scope.tolist() == [True, True, False, False]
    assert not unknown.any()


def test_a_clause_ccsync_cannot_evaluate_makes_only_the_undecided_users_unknown():
    doc = with_scope(load("azure2azure-default.json"), [
        {"name": "Bits", "clauses": [clause("department", "EQUALS", "Sales"), clause("employeeId", "&", "4")]},
        {"name": "HR", "clauses": [clause("department", "EQUALS", "HR")]},
    ])
    schema = translate_schema(doc)
    assert "cannot predict" in schema.scope_problems()[0]
    frame = users({"department": "Sales", "employeeId": "4"},     # group 1 undecided -> unknown
                  {"department": "HR", "employeeId": "4"},        # group 2 true -> in scope
                  {"department": "IT", "employeeId": "4"})        # both groups false -> out of scope
    in_scope, unknown, reason = evaluate_scope(schema, frame)
    assert in_scope.tolist() == [False, True, False]
    assert unknown.tolist() == [True, False, False]
    assert "'&'" in reason[0] and reason[1] is None


def test_scoping_on_an_attribute_the_export_lacks_is_unknown_not_false():
    schema = translate_schema(with_scope(load("azure2azure-default.json"),
                                         [{"name": "x", "clauses": [clause("extension_abc_costCenter", "EQUALS", "1")]}]))
    in_scope, unknown, reason = evaluate_scope(schema, users({"department": "Sales"}))
    assert unknown.tolist() == [True] and not in_scope.any()
    assert "no attribute 'extension_abc_costCenter'" in reason[0]


def test_unsupported_scoping_attribute_and_experimental_groups_are_named():
    doc = with_scope(load("azure2azure-default.json"), [{"name": "t", "clauses": [clause("userType", "EQUALS",
                                                                                             "Member")]}])
    doc["synchronizationRules"][0]["objectMappings"][0]["scope"]["inputFilterGroups"] = [{"name": "i", "clauses": []}]
    schema = translate_schema(doc)
    assert "userType" in schema.scope_problems()[0]
    assert any("inputFilterGroups" in p for p in schema.problems)


def test_digest_follows_content_not_odata_annotations():
    doc = load("azure2azure-default.json")
    same = copy.deepcopy(doc)
    same["@odata.context"] = "https://example.invalid/$metadata"
    assert schema_digest(doc) == schema_digest(same)
    changed = copy.deepcopy(doc)
    changed["synchronizationRules"][0]["objectMappings"][0]["flowTypes"] = "Add, Update"
    assert schema_digest(doc) != schema_digest(changed)


def test_a_schema_without_a_user_mapping_is_refused_with_the_fix():
    with pytest.raises(InputError, match="no object mapping from User to User"):
        translate_schema({"synchronizationRules": [{"objectMappings": [{"sourceObjectName": "Group",
                                                                         "targetObjectName": "Group"}]}]})
    with pytest.raises(InputError, match="no synchronizationRules"):
        translate_schema({"version": "v1"})
