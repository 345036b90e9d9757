"""An entra-engine plan is untrusted input too: what ccsync sends from it (scope changes, the job id) is checked
strictly, whatever its hash says; its predicted operations are checked for shape."""

from __future__ import annotations

import json

import pytest

from toolkit.errors import InputError
from toolkit.plan import load_plan
from toolkit.plan.entra_predict import predict_cycle
from toolkit.plan.planfile import canonical_digest

from plan_helpers import member, target_tenant
from test_entra_predict import SCHEMA, job, source

GROUP = "11111111-2222-3333-4444-555555555555"
USER = "66666666-7777-8888-9999-000000000000"


@pytest.fixture()
def plan_doc(tmp_path):
    pred = predict_cycle(SCHEMA, source([member(1), member(2)], ["src-0001", "src-0002"]), target_tenant([]), job())
    path = pred.plan.save(tmp_path / "plan.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["scopeChanges"] = [{"changeId": "add-1", "action": "addMember", "groupId": GROUP, "groupName": "Scope",
                            "userId": USER, "userPrincipalName": "a@contoso.com"}]
    return doc


def _load(tmp_path, doc):
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return load_plan(path)


def test_a_well_formed_entra_plan_with_scope_changes_loads(tmp_path, plan_doc):
    plan_doc["integrity"]["digest"] = canonical_digest(plan_doc)     # as 'ccsync plan --scope' would write it
    assert _load(tmp_path, plan_doc).header["scopeChanges"][0]["action"] == "addMember"


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["scopeChanges"][0].update(groupId="../../servicePrincipals/x"), "scopeChanges.groupId"),
    (lambda d: d["scopeChanges"][0].update(userId="x/$ref?"), "scopeChanges.userId"),
    (lambda d: d["scopeChanges"][0].update(action="deleteGroup"), "scopeChanges.action"),
    (lambda d: d["scopeChanges"].append(dict(d["scopeChanges"][0])), "scopeChanges.changeId"),
    (lambda d: d["job"].update(id="job/../../x"), "job.id"),
    (lambda d: d["operations"][0].update(kind="purge"), "kind"),
    (lambda d: d["operations"][0].update(passwordProfile={"password": "x"}), "passwordProfile"),
    (lambda d: d["schema"].update(sha256="abc"), "schema.sha256"),
])
def test_edited_entra_plans_are_refused_naming_the_field(tmp_path, plan_doc, edit, field):
    edit(plan_doc)
    with pytest.raises(InputError) as err:
        _load(tmp_path, plan_doc)
    assert err.value.field == field and "edited.json" in str(err.value)
