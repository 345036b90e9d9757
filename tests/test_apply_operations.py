"""What each operation sends (Graph's documented shapes), stale detection, and the journal's guarantees."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from toolkit.apply import Journal, apply_plan, operations_from_plan
from toolkit.apply.operations import (finish_requests, first_request, invitation_body, new_user_body,
                                      stale_reason, user_patch_body)
from toolkit.errors import InputError
from toolkit.plan.planfile import canonical_digest
from toolkit.plan.planner import PlanOptions, plan_sync
from toolkit.simulator import SimConfig, Simulator

from plan_helpers import b2b, member, target_tenant, tenant
from apply_helpers import (FABRIKAM, client, linked_users, make_plan, parse_mapping, sim_time, source_tenant,
                                source_user)
from toolkit.plan.rules import default_mapping

ROOT = "https://graph.microsoft.us/v1.0"


def _plan(**options):
    source = tenant([member(i, usageLocation="US", **({"jobTitle": "Manager"} if i == 2 else {}))
                     for i in (1, 2, 3)])
    target = target_tenant([b2b(2, usageLocation="US"), b2b(9)])
    opts = PlanOptions(check_licences=False, target_licenses=("sku-1",), target_groups=("grp-1",), **options)
    mapping = parse_mapping(default_mapping().text + "\nusageLocation = [usageLocation]\n")
    return plan_sync(source, target, options=opts, mapping=mapping)


def test_invitation_is_a_member_without_mail_by_source_upn() -> None:
    create = next(o for o in operations_from_plan(_plan()) if o.kind == "create")
    body = invitation_body(create)
    assert body == {"invitedUserEmailAddress": "user1@contoso.com", "inviteRedirectUrl": "https://myapps.microsoft.com",
                    "sendInvitationMessage": False, "invitedUserType": "Member", "invitedUserDisplayName": "User 1"}
    req = first_request(create, "m1", "invite", ROOT)
    assert (req.method, req.url) == ("POST", "/invitations")


def test_create_follow_ups_are_one_dependson_chain_patch_licence_group() -> None:
    op = next(o for o in operations_from_plan(_plan()) if o.kind == "create")
    chain = finish_requests(op, "new-id", "f7", "invite", ROOT)
    assert [(r.method, r.url) for r in chain] == [("PATCH", "/users/new-id"), ("PATCH", "/users/new-id"),
                                                  ("POST", "/users/new-id/assignLicense"),
                                                  ("POST", "/groups/grp-1/members/$ref")]
    assert [tuple(r.depends_on) for r in chain] == [(), ("f7.k",), ("f7.p",), ("f7.l0",)]
    # The link travels alone, first: a refused optional attribute cannot leave the user unlinked.
    assert chain[0].body == {"onPremisesExtensionAttributes": {"extensionAttribute15": op.link}}
    patch = chain[1].body
    assert "onPremisesExtensionAttributes" not in patch
    assert patch["accountEnabled"] is True and patch["userType"] == "Member"
    assert chain[2].body == {"addLicenses": [{"skuId": "sku-1", "disabledPlans": []}], "removeLicenses": []}
    assert chain[3].body == {"@odata.id": f"{ROOT}/directoryObjects/new-id"}


def test_update_patches_only_the_changed_attributes() -> None:
    op = next(o for o in operations_from_plan(_plan()) if o.kind == "update")
    req = first_request(op, "m2", "invite", ROOT)
    assert (req.method, req.url, req.body) == ("PATCH", "/users/tgt-0002", {"jobTitle": "Manager"})


def test_member_create_carries_everything_and_a_one_time_password() -> None:
    op = next(o for o in operations_from_plan(_plan()) if o.kind == "create")
    op.attrs["userPrincipalName"] = "user1@fabrikam.com"
    body = new_user_body(op)
    assert body["userPrincipalName"] == "user1@fabrikam.com" and body["accountEnabled"] is True
    assert body["passwordProfile"]["forceChangePasswordNextSignIn"] is True
    assert len(body["passwordProfile"]["password"]) >= 16 and body["passwordProfile"]["password"] != \
        new_user_body(op)["passwordProfile"]["password"]
    assert body["onPremisesExtensionAttributes"] == {"extensionAttribute15": op.link}
    # The attributes went with the POST: only licences and groups follow.
    assert [r.method + " " + r.url for r in finish_requests(op, "id", "f", "member", ROOT)] == [
        "POST /users/id/assignLicense", "POST /groups/grp-1/members/$ref"]


def test_delete_expects_the_link_and_stale_reason_names_the_difference() -> None:
    op = next(o for o in operations_from_plan(_plan()) if o.kind == "delete")
    assert first_request(op, "m", "invite", ROOT).method == "DELETE"
    linked = {"onPremisesExtensionAttributes": {"extensionAttribute15": op.link}}
    assert stale_reason(op, linked) is None
    assert "extensionAttribute15 is None" in stale_reason(op, {"onPremisesExtensionAttributes": {}})
    assert stale_reason(op, None) == "the target user no longer exists"
    upd = next(o for o in operations_from_plan(_plan()) if o.kind == "update")
    assert stale_reason(upd, {"jobTitle": "Engineer"}) is None
    assert stale_reason(upd, {"jobTitle": "Manager"}) is not None
    assert stale_reason(upd, {"jobTitle": "Manager"}, allow_done=True) is None


def test_booleans_and_extension_attributes_take_graph_shapes() -> None:
    assert user_patch_body({"accountEnabled": "false", "onPremisesExtensionAttributes.extensionAttribute3": "x",
                            "city": "Oslo"}) == {"accountEnabled": False, "city": "Oslo",
                                                 "onPremisesExtensionAttributes": {"extensionAttribute3": "x"}}


def test_journal_is_wal_full_sync_and_keeps_state_across_opens(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = Journal(path, "digest-a")
    j.add_operations([("op1", "create"), ("op2", "update")])
    j.mark_sent([("op1", "main")])
    j.update([{"op_id": "op2", "state": "done", "result": "updated"}])
    j.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = Journal(path, "digest-a")
    assert again._db.execute("PRAGMA synchronous").fetchone()[0] == 2      # FULL
    entries = again.entries()
    assert (entries["op1"].state, entries["op1"].attempts, entries["op1"].sent_at is not None) == ("sent", 1, True)
    assert entries["op2"].state == "done" and again.counts()["done"] == 1
    again.add_operations([("op1", "create"), ("op3", "delete")])           # known ones are kept as they are
    assert again.entries()["op1"].state == "sent" and list(again.entries()) == ["op1", "op2", "op3"]
    again.close()
    with pytest.raises(InputError, match="belongs to another plan"):
        Journal(path, "digest-b")


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def test_member_mode_creates_with_post_users_once(sim: Simulator, tmp_path: Path) -> None:
    from importlib import resources

    text = resources.files("toolkit").joinpath("data", "default-mapping.map").read_text(encoding="utf-8")
    mapping = parse_mapping(text + '\nuserPrincipalName = Join("@", [mailNickname], "fabrikamfederal.us")\n'
                                   "usageLocation = [usageLocation]\n", "member.map")
    group = next(iter(sim.tenant(FABRIKAM).groups))
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(3)]), create_as="member", mapping=mapping,
                     target_groups=(group,))
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "plan.json"),
                        options=sim_time())
    assert result.summary["states"] == {"done": 3}, result.failures.to_dict("records")
    users = [u for [u] in linked_users(sim).values()]
    assert sorted(u["userPrincipalName"] for u in users) == [f"user{i:05d}@fabrikamfederal.us" for i in range(3)]
    assert all(u["creationType"] is None and u["userType"] == "Member" for u in users)
    assert all(u["id"] in sim.tenant(FABRIKAM).groups[group]["members"] for u in users)
    # Resuming after an unknown outcome finds the users by their link or UPN instead of creating them again.
    j = Journal(tmp_path / "plan.json.journal.sqlite", canonical_digest(plan.to_document()))
    j.update([{"op_id": op, "state": "sent", "step": "main", "sent_at": 0.0} for op in plan.ops["opId"]])
    j.close()
    again = apply_plan(plan, client(sim), cloud="gcch", plan_path=tmp_path / "plan.json",
                       options=sim_time(resume=True))
    assert again.summary["states"] == {"done": 3}
    assert len(linked_users(sim)) == 3
