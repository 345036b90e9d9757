"""Issue 15's rules on what main added since: adoption decided by the planner (issue 10's --adopt), migration plans
through the plan schema (issue 12), the manager step through the write-time guard, and the passwords file under
the output-path rule.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from toolkit.apply.guard import WriteGuard, WriteRefused
from toolkit.apply.managers import manager_request
from toolkit.apply.operations import Operation, operations_from_plan
from toolkit.apply.secrets_source import attach_secrets, passwords_path
from toolkit.errors import InputError
from toolkit.migrate import plan_migration, validate_file
from toolkit.migrate.validate import TargetIndex
from toolkit.plan import PlanOptions, plan_sync
from toolkit.plan.planfile import canonical_digest, load_plan
from toolkit.plan.signing import KEY_FILE

from plan_helpers import SOURCE_TID, b2b, member, target_tenant, tenant
from apply_helpers import export_target

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "migration-portal.csv"
LINK = f"ccsync:{SOURCE_TID}:src-0001"


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    return tmp_path / "tokens" / KEY_FILE


def _rehash(doc: dict) -> dict:
    doc["integrity"]["digest"] = canonical_digest(doc)
    return doc


def _adoption_plan(adopt: bool):
    # User 1 exists in the target unlinked (same mail): an adoption. User 2 is linked and drifted: an update.
    return plan_sync(tenant([member(1), member(2, department="HR")]),
                     target_tenant([b2b(1, link=False), b2b(2)]), options=PlanOptions(adopt=adopt))


def _by_source(doc: dict) -> dict[str, dict]:
    return {op["source"]["id"]: op for op in doc["operations"]}


# --- adoption: the planner decides, the file says so, nothing else infers it ------------------------------------

def test_without_adopt_a_mail_match_is_a_conflict_and_nothing_is_marked_adopted(tmp_path):
    plan = _adoption_plan(adopt=False)
    assert plan.adopted_ops() == frozenset()
    doc = json.loads(plan.save(tmp_path / "plan.json").read_text(encoding="utf-8"))
    ops = _by_source(doc)
    assert ops["src-0001"]["kind"] == "conflict" and "--adopt" in ops["src-0001"]["reason"]
    assert not any("adopt" in op for op in doc["operations"])
    assert doc["options"]["adopt"] is False


def test_with_adopt_exactly_the_mail_match_is_marked_and_survives_the_file(tmp_path):
    plan = _adoption_plan(adopt=True)
    path = plan.save(tmp_path / "plan.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    ops = _by_source(doc)
    assert ops["src-0001"]["kind"] == "update" and ops["src-0001"]["matchedBy"] == "mail"
    assert ops["src-0001"]["adopt"] is True
    assert ops["src-0002"]["matchedBy"] == "link" and "adopt" not in ops["src-0002"]   # linked: not an adoption
    loaded = load_plan(path)
    assert loaded.adopted_ops() == {ops["src-0001"]["opId"]}
    by_id = {op.source_id: op for op in operations_from_plan(loaded)}
    assert by_id["src-0001"].adopt is True and by_id["src-0002"].adopt is False


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["options"].update(adopt=False), "not made with --adopt"),
    (lambda d: d["options"].update(adopt="yes"), "options.adopt"),
    (lambda d: _by_source(d)["src-0002"].update(adopt=True), "matched by mail or UPN"),   # a linked user
    (lambda d: _by_source(d)["src-0001"].update(kind="delete", changes=[]), "matched by mail or UPN"),
])
def test_the_schema_refuses_an_adoption_mark_the_planner_would_not_write(tmp_path, edit, words):
    path = _adoption_plan(adopt=True).save(tmp_path / "plan.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(_rehash(doc)), encoding="utf-8")
    with pytest.raises(InputError, match=words):
        load_plan(path)


# --- migration plans through the schema ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fabrikam(sim):
    from apply_helpers import client
    from toolkit.export import export_tenant

    return TargetIndex(export_tenant(client(sim), groups=["CCS-Sync-Pilot"], cloud="gcch"))


def _migration_doc(tmp_path: Path, fabrikam) -> tuple[dict, Path]:
    src = tmp_path / "m.csv"
    src.write_bytes(SAMPLE.read_bytes())
    path = plan_migration(validate_file(src, fabrikam)).save(tmp_path / "migration.json")
    return json.loads(path.read_text(encoding="utf-8")), path


def test_a_migration_plan_passes_the_schema_with_its_special_attributes(tmp_path, fabrikam):
    doc, path = _migration_doc(tmp_path, fabrikam)
    attributes = {ch["attribute"] for op in doc["operations"] for ch in op["changes"]}
    assert {"@createAs", "@password", "@forceChangePasswordNextSignIn", "@assignLicense"} <= attributes
    assert any("@" in op["source"]["id"] for op in doc["operations"])      # the CSV's address is the source key
    plan = load_plan(path)
    assert plan.counts()["create"] == len(doc["operations"])
    # A member row with a mail column: POST /users sets mail, so a create may carry it.
    _set(_first_member(doc), "mail", "someone@fabrikamfederal.us")
    path.write_text(json.dumps(_rehash(doc)), encoding="utf-8")
    assert load_plan(path).counts()["create"] == len(doc["operations"])


def _first_member(doc: dict) -> dict:
    return next(op for op in doc["operations"] if any(ch["attribute"] == "@password" for ch in op["changes"]))


def _set(op: dict, attribute: str, value: str) -> None:
    for ch in op["changes"]:
        if ch["attribute"] == attribute:
            ch["new"] = value
            return
    op["changes"].append({"attribute": attribute, "old": None, "new": value, "flow": "once"})


@pytest.mark.parametrize("attribute, value, words", [
    ("@createAs", "globalAdmin", "@createAs must be one of"),
    ("@password", "Hunter2!", "@password must be one of"),           # a password never travels in a plan
    ("@manager", "../me", "takes a GUID"),
    ("@managerOp", "cre-000000000000", "not another create of this plan"),
    ("@inviteRedirectUrl", "javascript:alert(1)", r"an http\(s\) URL"),
    ("@runAs", "x", "not one ccsync writes"),
    ("passwordProfile", "{}", "not one ccsync writes"),
])
def test_the_schema_refuses_bad_migration_attributes(tmp_path, fabrikam, attribute, value, words):
    doc, path = _migration_doc(tmp_path, fabrikam)
    _set(_first_member(doc), attribute, value)
    path.write_text(json.dumps(_rehash(doc)), encoding="utf-8")
    with pytest.raises(InputError, match=words):
        load_plan(path)


def test_mail_is_only_for_creates(tmp_path):
    path = _adoption_plan(adopt=False).save(tmp_path / "plan.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    update = next(op for op in doc["operations"] if op["kind"] == "update")
    update["changes"].append({"attribute": "mail", "old": None, "new": "evil@contoso.com", "flow": "always"})
    path.write_text(json.dumps(_rehash(doc)), encoding="utf-8")
    with pytest.raises(InputError, match="not one ccsync writes"):
        load_plan(path)


# --- the manager step through the guard ----------------------------------------------------------------------------

def test_the_guard_sets_a_manager_only_on_the_user_this_create_made():
    guard = WriteGuard(SOURCE_TID, "extensionAttribute15")
    op = Operation("cre-1", "create", "src-1", "user1@contoso.com", None, None, None, link=LINK,
                   extra={"manager": "11111111-1111-1111-1111-111111111111"})
    boss = "11111111-1111-1111-1111-111111111111"
    with pytest.raises(WriteRefused, match="not the user this operation created"):
        guard.check(op, "manager", [manager_request(op, "new-id", boss, "g1", "https://graph")])
    guard.created(op.op_id, "new-id")
    guard.check(op, "manager", [manager_request(op, "new-id", boss, "g1", "https://graph")])
    with pytest.raises(WriteRefused):
        guard.check(op, "manager", [manager_request(op, "victim", boss, "g2", "https://graph")])
    update = Operation("upd-1", "update", "src-1", None, None, "tgt-1", None, link=LINK)
    guard.observe(update.op_id, {"id": "tgt-1", "onPremisesExtensionAttributes": {"extensionAttribute15": LINK}})
    with pytest.raises(WriteRefused, match="only set for a user this run created"):
        guard.check(update, "manager", [manager_request(update, "tgt-1", boss, "g3", "https://graph")])


# --- the passwords file under the output-path rule ------------------------------------------------------------------

def test_the_passwords_file_is_0600_even_replacing_a_shared_one_under_umask_000(tmp_path, fabrikam):
    _, path = _migration_doc(tmp_path, fabrikam)
    plan = load_plan(path)
    secret_file = passwords_path(path)
    secret_file.write_text("userPrincipalName,password,forceChangePasswordNextSignIn\r\n", encoding="utf-8-sig")
    os.chmod(secret_file, 0o644)
    old = os.umask(0)
    try:
        attach_secrets(plan, operations_from_plan(plan), plan_path=path, what_if=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "password" in secret_file.read_text(encoding="utf-8-sig")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_passwords_file_is_never_written_through_a_symbolic_link(tmp_path, fabrikam):
    _, path = _migration_doc(tmp_path, fabrikam)
    plan = load_plan(path)
    elsewhere = tmp_path / "elsewhere.csv"
    passwords_path(path).symlink_to(elsewhere)
    with pytest.raises(InputError, match="symbolic link"):
        attach_secrets(plan, operations_from_plan(plan), plan_path=path, what_if=False)
    assert not elsewhere.exists()


# --- end to end: an adoption applied from a signed plan file --------------------------------------------------------

def test_a_plan_made_with_adopt_takes_the_user_over_from_its_file_and_the_guard_lets_it(tmp_path):
    from toolkit.apply.executor import ApplyOptions, apply_plan_file
    from toolkit.simulator import SimConfig, Simulator

    from apply_helpers import CONTOSO, FABRIKAM, client, make_plan, source_tenant, source_user

    with Simulator(SimConfig()) as sim:          # its own simulator: the session's stays as other tests expect
        users = sim.tenant(FABRIKAM).users.values()
        invited = next(u for u in users if u.get("creationType") == "Invitation" and u.get("mail")
                       and not (u.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute15")
                       and u.get("externalUserState") != "Accepted")
        source = source_tenant([source_user(1, mail=invited["mail"], userPrincipalName=invited["mail"])])
        refused = make_plan(sim, source)
        assert refused.counts()["conflict"] == 1 and not refused.adopted_ops()
        plan = make_plan(sim, source, adopt=True)
        [adopted] = plan.adopted_ops()
        path = plan.save(tmp_path / "plan.json")
        result = apply_plan_file(path, client(sim), cloud="gcch", options=ApplyOptions(follow_up_delay=0.05))
        assert result.summary["states"] == {"done": 1}, result.failures.to_dict(orient="records")
        user = sim.tenant(FABRIKAM).users[invited["id"]]
        assert user["onPremisesExtensionAttributes"]["extensionAttribute15"] == \
            f"ccsync:{CONTOSO}:{source_user(1)['id']}"
        assert result.frame.set_index("opId").loc[adopted, "state"] == "done"


# --- the log archive under the output-path rule ----------------------------------------------------------------------

@pytest.mark.parametrize("make", ["symlink", "fifo", "folder"])
def test_the_log_archive_is_never_a_link_a_fifo_or_a_folder(tmp_path, make):
    from toolkit.logs.archive import LogArchive

    path = tmp_path / "logs.sqlite"
    elsewhere = tmp_path / "elsewhere.sqlite"
    {"symlink": lambda: path.symlink_to(elsewhere), "fifo": lambda: os.mkfifo(path),
     "folder": lambda: path.mkdir()}[make]()
    with pytest.raises(InputError) as info:
        LogArchive(path, tenant_id="t1")
    assert str(path) in str(info.value)
    assert not elsewhere.exists()
