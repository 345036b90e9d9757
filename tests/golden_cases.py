"""Fixed inputs for the golden plans (tests/fixtures/golden_plans): each case names a source, a target and the
planner's arguments, built the same way every time (frozen snapshots of the sample tenants, hand-built tenants,
and generated tenants from fixed seeds). ``plan_files(name)`` gives what the golden test compares byte for byte.

Regenerate the goldens only on purpose (a deliberate change of planner output):
``python tests/fixtures/golden_plans/make_golden.py``.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from toolkit.export import load_tenant
from toolkit.frames import USERS, conform
from toolkit.plan.planner import PlanOptions, plan_sync, group_refusal
from toolkit.plan.rules import parse_mapping, parse_scope
from toolkit.plan.simulate import apply_plan_in_memory

from plan_helpers import b2b, member, target_tenant, tenant

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden_plans"
INPUTS = GOLDEN / "inputs"
# Sample tenants exported once from the simulator (make_golden.py) and frozen: the seeds may change, these don't.
SAMPLE_CLOUDS = ("commercial", "gcc", "gcch")

Case = Callable[[], tuple[Any, Any, dict[str, Any]]]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


def sample(cloud: str):
    return load_tenant(INPUTS / cloud)


def sample_scope() -> object:
    # Frozen copies of samples/scope.txt and samples/mapping-example.map, under their sample names: the plan
    # header records the name (which must not name this machine) and the file's SHA-256.
    return parse_scope((INPUTS / "scope.txt").read_text(encoding="utf-8"), "samples/scope.txt")


def sample_mapping() -> object:
    return parse_mapping((INPUTS / "mapping-example.map").read_text(encoding="utf-8"), "samples/mapping-example.map")


# --- the sample tenants ----------------------------------------------------------------------------------
@case
def samples_commercial_to_gcch_scoped():
    """Cross-cloud: the licence gate on real-looking licences, the demo's scoping group, Entra's default mapping."""
    return sample("commercial"), sample("gcch"), {"scope": sample_scope()}


@case
def samples_commercial_to_gcch_expressions():
    """Every user, the example mapping's expressions (Join, Switch, IIF, Coalesce, NormalizeDiacritics...)."""
    return sample("commercial"), sample("gcch"), {"mapping": sample_mapping()}


@case
def samples_commercial_to_gcc_member_mode():
    """Same cloud, POST /users: UPNs rewritten onto a target domain, a licence and a group for new users."""
    target = sample("gcc")
    mapping = parse_mapping('userPrincipalName = Replace([userPrincipalName], "@contoso.com", , , '
                            '"@litwareinc.com", , )\nmailNickname = [mailNickname]\ndisplayName = [displayName]\n'
                            'usageLocation = [usageLocation]\ndepartment = [department]\njobTitle = [jobTitle]\n'
                            'accountEnabled = [accountEnabled]\n', "member.map")
    sku = str(target.skus["skuId"].iloc[0])
    groups = sorted(str(o["id"]) for o in target.directory_objects if o.get("kind") == "group"
                    and group_refusal(o) is None)
    return sample("commercial"), target, {
        "mapping": mapping, "scope": sample_scope(),
        "options": PlanOptions(create_as="member", target_licenses=(sku,), target_groups=tuple(groups[:1]))}


def _second_round(on_deprovision: str, threshold: int):
    """Plan, apply in memory, then the source moves on: users leave, change, are disabled; plan again."""
    source, target = sample("commercial"), sample("gcc")
    first = plan_sync(source, target, options=PlanOptions(on_deprovision=on_deprovision))
    target = apply_plan_in_memory(first, target)
    users = source.users.copy()
    gone = users["id"].isin(users["id"].iloc[[3, 7, 11]])
    users = users[~gone].reset_index(drop=True)
    users["department"] = users["department"].astype("object")
    users.loc[[1, 4, 9], "department"] = "Moved"
    users["jobTitle"] = users["jobTitle"].astype("object")
    users.loc[[2, 5], "jobTitle"] = None                    # a null source value never clears the target
    users["accountEnabled"] = users["accountEnabled"].astype("object")
    users.loc[[6, 8], "accountEnabled"] = False
    source = replace(source, users=conform(users, USERS))
    return source, target, {"options": PlanOptions(on_deprovision=on_deprovision, deletion_threshold=threshold)}


@case
def samples_second_round_delete():
    return _second_round("delete", 500)


@case
def samples_second_round_disable_held():
    """Disable mode, with deprovisioning above a threshold of 2: held."""
    return _second_round("disable", 2)


# --- hand-built tenants ----------------------------------------------------------------------------------
def _mixed_targets() -> list[dict]:
    return ([b2b(i) for i in range(0, 10)]                                      # linked, in sync
            + [b2b(i, department="Old", displayName="Stale") for i in range(10, 14)]   # drifted
            + [b2b(i, link=False) for i in range(14, 17)]                       # adoptable by mail
            + [b2b(i, link=False, mail=f"other{i}@contoso.com") for i in range(17, 19)]  # by external UPN
            + [{"id": "int-20", "userPrincipalName": "user20@fabrikam.com", "mail": "user20@contoso.com",
                "userType": "Member", "creationType": None, "accountEnabled": True}]     # internal: conflict
            + [b2b(21, link=False, externalUserState="Accepted")]              # Entra-synced shape
            + [b2b(i) for i in range(40, 52)]                                   # linked, source gone
            + [b2b(22, onPremisesSyncEnabled=True, department="Old")]          # on-premises mastered
            + [b2b(23, id="tgt-dup-a", link=False, mail="shared@contoso.com"),
               b2b(24, id="tgt-dup-b", link=False, mail="shared@contoso.com")])


def _mixed_sources() -> list[dict]:
    users = [member(i) for i in range(0, 30)]
    users[25]["accountEnabled"] = False                                   # disabled, no target: not created
    users[11]["accountEnabled"] = False                                   # disabled, linked: disable
    users[26]["mail"] = "shared@contoso.com"                              # two targets by mail: ambiguous
    users[27]["userType"] = "Guest"                                       # guests never synced
    users[28]["department"] = "D" * 70                                    # over Graph's limit: conflict
    users[29]["mail"] = "user29@contoso.net"                              # unverified source domain
    users += [member(i, mail="dup@contoso.com") for i in (30, 31)]        # one mail, two sources
    return users


@case
def hand_mixed_default():
    return tenant(_mixed_sources()), target_tenant(_mixed_targets()), {}


@case
def hand_mixed_adopt_disable():
    return tenant(_mixed_sources()), target_tenant(_mixed_targets()), {
        "options": PlanOptions(adopt=True, on_deprovision="disable")}


@case
def hand_held_deletes_over_threshold():
    return tenant([member(i) for i in range(5)]), target_tenant([b2b(i) for i in range(40)]), {
        "options": PlanOptions(deletion_threshold=10)}


@case
def hand_deletes_allowed_above_threshold():
    return tenant([member(i) for i in range(5)]), target_tenant([b2b(i) for i in range(40)]), {
        "options": PlanOptions(deletion_threshold=10, allow_deletes=30)}


@case
def hand_licence_gate():
    src = tenant(_mixed_sources())
    ids = sorted(src.users["id"].astype(str))
    eligibility = pd.DataFrame({"userId": ids, "eligible": [i % 3 != 0 for i in range(len(ids))],
                                "status": ["eligible" if i % 3 else "missing_governance" for i in range(len(ids))],
                                "reason": [f"reason {i}" for i in range(len(ids))]})
    return src, target_tenant(_mixed_targets(), cloud="gcch"), {"eligibility": eligibility}


@case
def hand_licence_gate_computed():
    """No eligibility given: the planner evaluates it (hand-built tenants have no licences: all blocked)."""
    return tenant(_mixed_sources()), target_tenant(_mixed_targets(), cloud="gcch"), {}


@case
def hand_scope_filters_and_group():
    users = _mixed_sources()
    for i, u in enumerate(users):
        u["department"] = ["Sales", "HR", "Legal", None][i % 4] if i != 28 else u["department"]
        u["city"] = ["Seattle", "Berlin", None][i % 3]
    groups = [("g-1", "Sync", f"src-{i:04d}") for i in range(0, 32, 2)]
    scope = parse_scope("group Sync\nfilter NotLegal\n    department NOT EQUALS \"Legal\"\n"
                        "filter Berlin\n    city EQUALS \"Berlin\"\n", "scope.txt")
    return tenant(users, groups=groups), target_tenant(_mixed_targets()), {"scope": scope}


@case
def hand_expressions_member_mode():
    mapping = parse_mapping(
        'userPrincipalName = Join("", ToLower([mailNickname]), "@fabrikam.com")\n'
        'mailNickname = [mailNickname]\n'
        'displayName = Join(" ", [givenName], [surname], "(Contoso)")\n'
        'department = Switch([department], [department], "Sales", "Sales & Marketing")\n'
        'jobTitle = Coalesce([jobTitle], "Staff")\n'
        'accountEnabled = [accountEnabled]\n'
        'once companyName = "Contoso"\n', "expr.map")
    users = _mixed_sources()
    for i, u in enumerate(users):
        u["mailNickname"] = f"User{i}"
        if i % 5 == 0:
            u["jobTitle"] = None
    users[3]["mailNickname"] = "User4"                                    # two new users, one UPN
    return tenant(users), target_tenant(_mixed_targets()), {
        "mapping": mapping, "options": PlanOptions(create_as="member")}


@case
def hand_odd_values():
    """A link attribute holding a number, a boolean copied into a text attribute, an IIF, a shouting "TRUE"."""
    targets = _mixed_targets()
    targets[0]["onPremisesExtensionAttributes"] = {"extensionAttribute15": 5}
    mapping = parse_mapping('department = [accountEnabled]\njobTitle = IIF([department]="Sales", "S", [jobTitle])\n'
                            'displayName = Join(" ", [givenName], [surname])\ncompanyName = "Contoso"\n'
                            'accountEnabled = [accountEnabled]\nonce showInAddressList = "TRUE"\n'
                            'employeeId = [surname]\n', "odd.map")
    return tenant(_mixed_sources()), target_tenant(targets), {"mapping": mapping,
                                                              "options": PlanOptions(adopt=True)}


@case
def hand_member_mode_adoption_by_upn():
    """Creating members: a target user with the source UPN is matched by UPN (adopted with --adopt)."""
    targets = [{"id": f"mem-{i}", "userPrincipalName": f"user{i}@contoso.com", "mail": None, "userType": "Member",
                "creationType": None, "accountEnabled": True, "department": "Old"} for i in range(3)]
    mapping = parse_mapping('userPrincipalName = [userPrincipalName]\nmailNickname = [mailNickname]\n'
                            'displayName = [displayName]\ndepartment = [department]\n', "m.map")
    users = [member(i, mail=None, mailNickname=f"user{i}") for i in range(5)]
    return tenant(users), target_tenant(targets + [b2b(9)]), {
        "mapping": mapping, "options": PlanOptions(create_as="member", adopt=True)}


# --- generated tenants (fixed seeds), the shapes of test_plan_properties.py ---------------------------------
def _generated(seed: int, n: int = 60):
    rng = random.Random(seed)
    departments = ["Sales", "HR", "R&D", None, "Ünïcode Dept"]
    titles = ["Engineer", "Manager", None, "Lead"]
    sources = [member(i, department=rng.choice(departments), jobTitle=rng.choice(titles),
                      accountEnabled=rng.random() < 0.8,
                      userType=rng.choice(["Member", "Member", "Member", "Guest"]),
                      mail=rng.choice([f"user{i}@contoso.com", f"user{i}@contoso.com", None, "dup@contoso.com"]))
               for i in range(n)]
    targets = []
    for i in range(n + 8):
        state = rng.choice(["absent", "linked", "linked-drifted", "unlinked", "internal", "entra-synced",
                            "pending-guest", "on-premises"])
        if state == "absent":
            continue
        if state == "internal":
            targets.append({"id": f"int-{i}", "userPrincipalName": f"user{i}@fabrikam.com",
                            "mail": f"user{i}@contoso.com", "userType": "Member", "creationType": None,
                            "accountEnabled": True})
            continue
        extra: dict[str, Any] = {}
        if state == "entra-synced":
            extra = {"userType": "Member", "externalUserState": "Accepted"}
        elif state == "pending-guest":
            extra = {"userType": "Guest", "externalUserState": "PendingAcceptance"}
        elif state == "on-premises":
            extra = {"onPremisesSyncEnabled": True, "department": rng.choice(departments)}
        if state == "linked-drifted":
            extra = {"department": rng.choice(departments), "displayName": "Stale name",
                     "accountEnabled": rng.random() < 0.5}
        targets.append(b2b(i, link=state in ("linked", "linked-drifted", "on-premises"), **extra))
    options = PlanOptions(on_deprovision=rng.choice(["delete", "disable"]), deletion_threshold=rng.choice([3, 500]),
                          confirm_empty_scope=True, adopt=rng.random() < 0.5)
    return tenant(sources), target_tenant(targets), {"options": options}


for _seed in (1, 2, 3, 4, 5, 6):
    CASES[f"generated_seed_{_seed}"] = (lambda s: (lambda: _generated(s)))(_seed)


@case
def bench_tenants_3000():
    """The benchmark's own tenants (bench/bench_plan.py build, seed 7) at 3,000 users: its deletes held at 10."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_plan import build

    source, target = build(3000)
    return source, target, {"options": PlanOptions(deletion_threshold=10)}


# --- what is compared --------------------------------------------------------------------------------------
def plan_files(name: str) -> dict[str, str]:
    """The plan file (unsigned: a signature depends on the user's key) and the plan's frames as CSV."""
    source, target, kwargs = CASES[name]()
    plan = plan_sync(source, target, **kwargs)
    # The toolkit's version is the release's, not the planner's output: fixed here so a release does not move it.
    plan.header["toolkitVersion"] = "golden"
    return {f"{name}.plan.json": plan.dumps(sign=False),
            f"{name}.ops.csv": plan.ops.to_csv(index=False, lineterminator="\n"),
            f"{name}.changes.csv": plan.changes.to_csv(index=False, lineterminator="\n")}


__all__ = ["CASES", "GOLDEN", "INPUTS", "SAMPLE_CLOUDS", "plan_files"]
