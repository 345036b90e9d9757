"""Issue 15, class 1: a plan file is untrusted input.

Schema validation (kinds, fields, types, lengths, attribute allow-list, unique ids, boolean flags), an HMAC
signature with the user's own key, and the write-time guard: a forged plan (hash recomputed, applied with
--trust-unsigned-plan) cannot touch a target user ccsync did not create and that is not linked to the plan's source.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import stat
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from toolkit.apply.guard import WriteGuard, WriteRefused
from toolkit.apply.operations import Operation, finish_requests, first_request
from toolkit.cli.main import cli
from toolkit.errors import InputError
from toolkit.plan.planfile import canonical_digest, load_plan
from toolkit.plan.signing import KEY_FILE
from toolkit.simulator import SimConfig, Simulator

from plan_helpers import SOURCE_TID, b2b, member, target_tenant, tenant
from apply_helpers import FABRIKAM, CONTOSO, linked_users, make_plan, profile, source_tenant, source_user


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    return tmp_path / "tokens" / KEY_FILE


def _document(tmp_path: Path) -> tuple[dict, Path]:
    from toolkit.plan import plan_sync
    plan = plan_sync(tenant([member(1), member(2, department="HR"), member(3, accountEnabled=False)]),
                     target_tenant([b2b(2), b2b(3), b2b(9)]))
    path = plan.save(tmp_path / "plan.json")
    return json.loads(path.read_text(encoding="utf-8")), path


def _rehash(doc: Any) -> Any:
    if isinstance(doc, dict) and isinstance(doc.get("integrity"), dict):
        doc["integrity"]["digest"] = canonical_digest(doc)
    return doc


def _op(doc: dict, kind: str) -> dict:
    return next(op for op in doc["operations"] if op["kind"] == kind)


MUTATIONS = {
    "unknown kind": (lambda d: _op(d, "create").update(kind="promote"), "unknown operation kind", "kind"),
    "duplicate opId": (lambda d: d["operations"].append(copy.deepcopy(d["operations"][0])), "more than once", "opId"),
    "passwordProfile": (lambda d: _op(d, "update")["changes"].append(
        {"attribute": "passwordProfile", "old": None, "new": "x", "flow": "always"}), "not one ccsync writes",
        "changes.attribute"),
    "held is text": (lambda d: _op(d, "update").update(held="no"), "true or false", "held"),
    "held is a number": (lambda d: _op(d, "update").update(held=0), "true or false", "held"),
    "adopt is text": (lambda d: _op(d, "update").update(adopt="yes"), "true or false", "adopt"),
    "1 MB display name": (lambda d: next(c for c in _op(d, "create")["changes"] if c["attribute"] == "displayName")
                          .update(new="A" * 1_000_000), "more than the 256", "changes.displayName.new"),
    "create without source": (lambda d: _op(d, "create").pop("source"), "missing field", "source"),
    "source is a list": (lambda d: _op(d, "create").update(source=[]), "JSON object", "source"),
    "create without source id": (lambda d: _op(d, "create")["source"].update(id=None), "source user", "source.id"),
    "target id with a path": (lambda d: _op(d, "update")["target"].update(id="../groups/x"), "object id",
                              "target.id"),
    "unknown op field": (lambda d: _op(d, "update").update(sudo=True), "unknown field", "sudo"),
    "licence not a GUID": (lambda d: _op(d, "create")["changes"].append(
        {"attribute": "@assignLicense", "old": None, "new": "E5", "flow": "once"}), "GUID", "changes.attribute"),
    "delete with changes": (lambda d: _op(d, "delete")["changes"].append(
        {"attribute": "displayName", "old": None, "new": "x", "flow": "always"}), "no attribute changes", "changes"),
    "value not text": (lambda d: _op(d, "update")["changes"][0].update(new={"$ne": 1}), "must be text", None),
    "operations not a list": (lambda d: d.update(operations={}), "must be a list", "operations"),
    "bad link attribute": (lambda d: d["options"].update(linkAttribute="passwordProfile"), "extensionAttribute",
                           "options.linkAttribute"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_schema_refuses_each_kind_of_edit_even_with_a_recomputed_hash(tmp_path, name):
    doc, path = _document(tmp_path)
    mutate, message, field = MUTATIONS[name]
    mutate(doc)
    path.write_text(json.dumps(_rehash(doc)), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_plan(path)
    text = str(info.value)
    assert message in text and str(path) in text
    if field:
        assert info.value.field == field or field in text


@pytest.mark.parametrize("content", ["[]", "[1, 2]", '"plan"', "null", "{}", "[" * 100_000])
def test_a_plan_that_is_not_an_object_is_a_clear_error(tmp_path, content):
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_plan(path)
    assert str(path) in str(info.value)


def test_utf16_plans_with_a_bom_load_and_without_a_bom_are_refused(tmp_path):
    doc, path = _document(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))        # PowerShell 5's Out-File
    assert load_plan(path).digest == doc["integrity"]["digest"]
    path.write_bytes(text.encode("utf-16-le"))
    with pytest.raises(InputError, match="UTF-16|NUL"):
        load_plan(path)
    path.write_bytes(text.encode("utf-8").replace(b'"kind"', b'"k\xefnd"', 1))
    with pytest.raises(InputError, match="line"):
        load_plan(path)


# --- signature ----------------------------------------------------------------------------------------------------

def test_plan_is_signed_with_a_private_key_made_on_first_use(tmp_path, own_key):
    doc, path = _document(tmp_path)
    assert doc["signature"]["algorithm"] == "hmac-sha256" and len(doc["signature"]["value"]) == 64
    assert stat.S_IMODE(own_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(own_key.parent.stat().st_mode) == 0o700
    assert own_key.read_text().strip() not in path.read_text()              # the key never leaves its file
    assert load_plan(path).check_signature(str(path)).valid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unsigned_foreign_and_changed_plans_are_refused_unless_trusted(tmp_path, monkeypatch):
    from toolkit.plan import plan_sync
    plan = plan_sync(tenant([member(1)]), target_tenant([]))
    unsigned = plan.save(tmp_path / "unsigned.json", sign=False)
    signed = plan.save(tmp_path / "signed.json")
    doc = json.loads(signed.read_text())
    _op(doc, "create")["source"]["mail"] = "mallory@contoso.com"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(_rehash(doc)))
    for path, status in ((unsigned, "not signed"), (changed, "changed after it was signed")):
        with pytest.raises(InputError, match=status):
            load_plan(path).check_signature(str(path))
        assert not load_plan(path).check_signature(str(path), trust_unsigned=True).valid
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "colleague"))         # someone else's key
    with pytest.raises(InputError, match="another key"):
        load_plan(signed).check_signature(str(signed))
    assert load_plan(signed).check_signature(str(signed), trust_unsigned=True).status == "other-key"


def test_a_key_file_others_can_read_is_refused(tmp_path, own_key):
    _document(tmp_path)
    os.chmod(own_key, 0o644)
    from toolkit.errors import ConfigError
    from toolkit.plan.signing import signing_key
    with pytest.raises(ConfigError, match="not a private file"):
        signing_key()


# --- the write-time guard, on its own -------------------------------------------------------------------------------

LINK = f"ccsync:{SOURCE_TID}:src-1"


def _update(target="tgt-1", link=LINK, **kw):
    op = Operation("upd-1", kw.pop("kind", "update"), "src-1", "user1@contoso.com", None, target, None,
                   attrs=kw.pop("attrs", {"jobTitle": "Boss"}), link=link, **kw)
    return op


def _guard():
    return WriteGuard(SOURCE_TID, "extensionAttribute15")


@pytest.mark.parametrize("seen_link,allowed", [(LINK, True), (LINK.upper(), True), (None, False),
                                                (f"ccsync:{SOURCE_TID}:src-2", False),
                                                ("ccsync:99999999-9999-4999-8999-999999999999:src-1", False),
                                                ("someone else's value", False)])
@pytest.mark.parametrize("kind", ["update", "disable", "delete"])
def test_guard_allows_only_users_linked_to_this_source_user(seen_link, allowed, kind):
    guard, op = _guard(), _update(kind=kind)
    guard.observe(op.op_id, {"id": "tgt-1", "onPremisesExtensionAttributes": {"extensionAttribute15": seen_link}})
    reqs = [first_request(op, "m1", "invite", "https://graph")]
    if allowed:
        guard.check(op, "main", reqs)
    else:
        with pytest.raises(WriteRefused, match="not sent"):
            guard.check(op, "main", reqs)


def test_guard_refuses_a_user_it_never_read_and_one_read_under_another_id():
    guard, op = _guard(), _update()
    with pytest.raises(WriteRefused, match="not read from the target"):
        guard.check(op, "main", [first_request(op, "m1", "invite", "https://graph")])
    guard.observe(op.op_id, {"id": "tgt-OTHER", "onPremisesExtensionAttributes": {"extensionAttribute15": LINK}})
    with pytest.raises(WriteRefused):
        guard.check(op, "main", [first_request(op, "m1", "invite", "https://graph")])


def test_guard_adoption_needs_the_opt_in_and_an_unlinked_user():
    guard, op = _guard(), _update()
    guard.observe(op.op_id, {"id": "tgt-1", "onPremisesExtensionAttributes": {}})
    req = [first_request(op, "m1", "invite", "https://graph")]
    with pytest.raises(WriteRefused, match="does not adopt"):
        guard.check(op, "main", req)
    op.adopt = True                              # issue 10's --adopt marks the operation
    guard.check(op, "main", req)
    guard.observe(op.op_id, {"id": "tgt-1", "onPremisesExtensionAttributes": {"extensionAttribute15": "ccsync:x:y"}})
    with pytest.raises(WriteRefused, match="linked to"):
        guard.check(op, "main", req)


def test_guard_follow_ups_only_reach_the_user_the_create_made():
    guard = _guard()
    op = Operation("cre-1", "create", "src-1", "user1@contoso.com", None, None, None, attrs={"jobTitle": "x"},
                   licenses=["05e9a617-0261-4cee-bb44-138d3ef5d965"], link=LINK)
    guard.check(op, "main", [first_request(op, "m1", "invite", "https://graph")])
    follow = finish_requests(op, "new-id", "f1", "invite", "https://graph")
    with pytest.raises(WriteRefused, match="not the user this operation created"):
        guard.check(op, "finish", follow)
    guard.created(op.op_id, "new-id")
    guard.check(op, "finish", follow)
    with pytest.raises(WriteRefused):
        guard.check(op, "finish", finish_requests(op, "victim", "f2", "invite", "https://graph"))
    guard.check(op, "finish", finish_requests(op, "resumed", "f3", "invite", "https://graph"), journal_target="resumed")


def test_guard_refuses_writes_of_attributes_outside_the_allow_list_and_unknown_requests():
    from toolkit.graph import BatchRequest
    guard, op = _guard(), _update(attrs={"passwordProfile": "x"})
    guard.observe(op.op_id, {"id": "tgt-1", "onPremisesExtensionAttributes": {"extensionAttribute15": LINK}})
    with pytest.raises(WriteRefused, match="passwordProfile"):
        guard.check(op, "main", [first_request(op, "m1", "invite", "https://graph")])
    ok = _update()
    guard.observe(ok.op_id, {"id": "tgt-1", "onPremisesExtensionAttributes": {"extensionAttribute15": LINK}})
    for req in (BatchRequest("x", "POST", "/users/tgt-1/revokeSignInSessions"),
                BatchRequest("x", "DELETE", "/groups/g1"), BatchRequest("x", "POST", "/invitations")):
        with pytest.raises(WriteRefused):
            guard.check(ok, "main", [req])


# --- end to end: a forged plan against the simulated target --------------------------------------------------------

@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def _apply(sim: Simulator, tmp_path: Path, plan: Path, *extra: str):
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    return CliRunner().invoke(cli, ["apply", str(plan), "--profile", prof.name, "--config", str(config), "--yes",
                                    "--output", "json", "--progress", "none", *extra],
                              env={prof.secret_env: sim.secret_for(FABRIKAM)})


def _forge(plan_path: Path, victim: dict, kind: str, source_id: str) -> None:
    doc = json.loads(plan_path.read_text())
    op = doc["operations"][0]
    op.update(kind=kind, matchedBy="link", reason=None, held=False,
              target={"id": victim["id"], "userPrincipalName": victim["userPrincipalName"]})
    op["source"]["id"] = source_id
    op["changes"] = {"update": [{"attribute": "displayName", "old": victim.get("displayName"), "new": "Pwned",
                                 "flow": "always"}],
                     "disable": [{"attribute": "accountEnabled", "old": "true", "new": "false", "flow": "always"}],
                     "delete": []}[kind]
    plan_path.write_text(json.dumps(_rehash(doc)))


@pytest.mark.parametrize("kind", ["update", "disable", "delete"])
def test_a_forged_plan_cannot_touch_an_unlinked_user(sim, tmp_path, kind):
    tenant_state = sim.tenant(FABRIKAM)
    victim = next(u for u in tenant_state.users.values() if not (u.get("onPremisesExtensionAttributes") or {})
                  .get("extensionAttribute15") and u.get("accountEnabled", True))
    before = copy.deepcopy(victim)
    plan = make_plan(sim, source_tenant([source_user(1)])).save(tmp_path / "plan.json")
    _forge(plan, victim, kind, source_user(1)["id"])
    refused = _apply(sim, tmp_path, plan)
    assert refused.exit_code == 2 and "changed after it was signed" in refused.stderr
    trusted = _apply(sim, tmp_path, plan, "--trust-unsigned-plan")
    assert "Traceback" not in trusted.output
    [op] = json.loads(trusted.stdout)["operations"]
    if kind == "delete":
        # A delete already expects the link in its 'before' state: the stale check skips it before the guard.
        assert op["state"] == "skipped" and "extensionAttribute15" in op["message"]
    else:
        assert trusted.exit_code == 1, trusted.output
        assert op["state"] == "failed" and "not linked to this source" in op["message"]
    assert tenant_state.users[victim["id"]] == before


def test_a_forged_plan_cannot_retarget_a_user_linked_to_another_source_user(sim, tmp_path):
    first = make_plan(sim, source_tenant([source_user(1), source_user(2)])).save(tmp_path / "first.json")
    assert _apply(sim, tmp_path, first).exit_code == 0
    links = linked_users(sim)
    [victim] = links[f"ccsync:{CONTOSO}:{source_user(2)['id']}"]
    before = copy.deepcopy(victim)
    plan = make_plan(sim, source_tenant([source_user(1), source_user(2), source_user(3)])).save(tmp_path / "p.json")
    _forge(plan, victim, "update", source_user(1)["id"])            # user 1's operation aimed at user 2's account
    result = _apply(sim, tmp_path, plan, "--trust-unsigned-plan")
    assert result.exit_code == 1, result.output
    assert sim.tenant(FABRIKAM).users[victim["id"]] == before


def test_a_signed_plan_applies_and_says_so(sim, tmp_path):
    plan = make_plan(sim, source_tenant([source_user(1)])).save(tmp_path / "plan.json")
    result = _apply(sim, tmp_path, plan)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["signature"] == "valid"
