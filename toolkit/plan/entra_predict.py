"""Predict what Entra's own cross-tenant synchronization job will do in its next cycle, per source user.

Why one module of about 550 lines: ``predict_cycle`` is one vectorised pass whose phases (scope, links, mapped
values, per-user outcomes, deletion threshold) share the same indexed frames and one ``emit``, and the helpers
below it serve only that pass; split, they would pass those frames back and forth without being easier to read.

Inputs: the job's schema (translated by :mod:`toolkit.plan.entra_schema`), its scope (assigned groups, whose
DIRECT members are in scope, and assigned users; or every user with ``SyncAll``), the secrets that change its
behaviour (``SyncAll``; the accidental-deletion threshold inside ``SyncNotificationSettings``), the links the
job already holds (source user -> target user, read from its provisioning logs: Graph does not expose a user's
``alternativeSecurityIds``, Entra's matching anchor), and the source and target users.

Output: a :class:`~toolkit.plan.planfile.SyncPlan` with ``engine: entra`` whose operations are, per user:

=========  ==========================================================================================
create     in scope, internal member, no linked target user: Entra creates an external member (a disabled
           source user too, disabled: the FAQ's "disabled, provisioned, then removed" case shows it is provisioned)
update     linked, and an "Always" (or "AttributeAddOnly" with no target value) mapping differs
disable    linked, and the source account is disabled (accountEnabled false flows as an update)
delete     linked, and the source user left scope or was deleted: Entra SOFT-deletes (graph-facts 3)
skip       what Entra skips: out of scope of the scoping filter, external/guest source user, flow type
           Add/Update/Delete switched off in the schema
fail       what Entra would fail with, and the reason it gives (graph-facts 3 and 10)
unknown    ccsync cannot predict it (a construct it does not evaluate), with the reason: never a guess
=========  ==========================================================================================

Matching: (1) a link from the provisioning logs (``matchedBy`` ``log``); (2) an external target user who has
redeemed (``externalUserState`` Accepted) and whose UPN (``alias_domain#EXT#@...``) or mail is the source
user's: Entra matches existing B2B users on ``alternativeSecurityIds``, which a redeemed B2B user carries
(overview FAQ "Existing B2B users"); ccsync cannot read that anchor, so this match is labelled ``b2b``;
(3) the same user still ``PendingAcceptance`` has no ``alternativeSecurityIds``: Entra will not join it and the
create fails on its address ([CTS-PORTAL] troubleshooting); (4) an INTERNAL target user with the address: sync
cannot match internal users, and the invitation fails (``InvitationCreationFailureAmbiguousUser``).

Not evaluated (listed in the plan's ``notEvaluated``): SMS sign-in users (Entra skips them; ccsync's export
does not read authentication methods), target-side source-of-authority conflicts (Exchange/on-premises
mastered attributes), restores of soft-deleted target users, the directory object quota.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping as TMapping

import numpy as np
import pandas as pd

from .. import defaults
from ..clouds import check_pair
from ..errors import InputError
from ..frames import TenantData
from .entra_schema import EntraSchema, evaluate_scope, translate_schema
from ..frames import CHANGES_COLUMNS, OPS_COLUMNS
from .columns import (external_upn_to_address as _external_upn_to_address, keys_as_objects as _keys_as_objects,
                      lower_text as _lower, mapped_values as _mapped_values, as_objects as _obj, op_id as _op_id,
                      text_values as _text, verified_domains as _verified_domains, tenant_header as _tenant_header)
from .rules import TARGET_LIMITS

__all__ = ["JobState", "EntraPrediction", "predict_cycle", "ENTRA_KINDS", "DEFAULT_DELETE_THRESHOLD",
           "OUTCOME_COLUMNS", "NOT_EVALUATED"]

ENTRA_KINDS = ("create", "update", "disable", "delete", "skip", "fail", "unknown")
# Accidental-deletion prevention: the portal's default threshold ([CTS-PORTAL] step 10; accidental-deletions.md).
DEFAULT_DELETE_THRESHOLD = defaults.DELETION_THRESHOLD
# One row per source (or linked target) user the cycle touches or considers; "unchanged" = Entra will find
# nothing to export (provisioning log: skipped, RedundantExport).
OUTCOME_COLUMNS = ["sourceId", "targetId", "outcome", "reason", "matchedBy", "cannotPredict", "licence"]
NOT_EVALUATED = (
    "SMS sign-in users are skipped by Entra; ccsync's export does not read authentication methods, so it cannot "
    "tell which users those are",
    "attributes mastered in the target by Exchange Online or on-premises AD "
    "(AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService) are not checked",
    "the target tenant's directory object quota (AzureActiveDirectoryQuotaLimitExceeded) is not checked",
    "soft-deleted target users are not restored by a cycle ([CTS-PORTAL]); ccsync's target export lists active "
    "users only",
)


@dataclass(frozen=True)
class JobState:
    """What of the job, besides its schema, decides the cycle."""

    job_id: str | None = None
    service_principal_id: str | None = None
    assigned_groups: tuple[str, ...] = ()       # object ids (or names) of groups assigned to the configuration
    assigned_users: tuple[str, ...] = ()        # object ids of users assigned directly
    secrets: TMapping[str, str] = field(default_factory=dict)   # key -> value, as GET .../secrets returns them
    links: pd.DataFrame | None = None           # sourceId, targetId: users the job has provisioned or matched
    # sourceId, attribute, value: what the job last wrote per user (its provisioning logs' modifiedProperties).
    # Sync does not read the target: an edit made there persists until the source user changes (overview FAQ).
    exported: pd.DataFrame | None = None

    @property
    def sync_all(self) -> bool:
        # SyncAll "false" = "Sync only assigned users and groups" (graph-facts 2.2 step H).
        return str(self.secrets.get("SyncAll", "false")).strip().lower() == "true"

    @property
    def deletion_threshold(self) -> int | None:
        """The accidental-deletion threshold, or None when prevention is off (SyncNotificationSettings JSON).

        [CTS-PORTAL] step 10: "By default, the threshold is set to 500"; accidental-deletions.md gives no other
        default. Microsoft's docs are silent on a job whose settings lack ``DeleteThresholdEnabled`` (or the
        whole secret): we read that as the documented default, on at 500, as the simulated engine does; only an
        explicit ``DeleteThresholdEnabled: false`` turns prevention off.
        """
        raw = self.secrets.get("SyncNotificationSettings")
        if raw == "*":
            return None             # masked by GET .../secrets: not readable, so no threshold is claimed
        if not raw:
            return DEFAULT_DELETE_THRESHOLD
        try:
            settings = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except (ValueError, TypeError) as exc:
            raise InputError("the job's SyncNotificationSettings secret is not JSON",
                             hint="Read it again with GET .../synchronization/secrets.") from exc
        if str(settings.get("DeleteThresholdEnabled", True)).lower() == "false":
            return None
        value = settings.get("DeleteThresholdValue")
        return int(value) if value not in (None, "") else DEFAULT_DELETE_THRESHOLD

    def scope_digest(self) -> str:
        """Hash of what decides scope and deletion behaviour, so apply can refuse a stale plan."""
        body = {"groups": sorted(g.lower() for g in self.assigned_groups),
                "users": sorted(u.lower() for u in self.assigned_users),
                "syncAll": self.sync_all, "deletionThreshold": self.deletion_threshold}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.job_id, "servicePrincipalId": self.service_principal_id,
                "assignedGroups": sorted(self.assigned_groups), "assignedUsers": sorted(self.assigned_users),
                "syncAll": self.sync_all, "deletionThreshold": self.deletion_threshold,
                "scopeSha256": self.scope_digest()}


@dataclass
class EntraPrediction:
    plan: Any                       # SyncPlan (engine entra)
    outcomes: pd.DataFrame          # OUTCOME_COLUMNS, one row per considered user, incl. "unchanged"
    schema: EntraSchema


def predict_cycle(schema: EntraSchema | dict, source: TenantData, target: TenantData, job: JobState, *,
                  catalog: Any = None, eligibility: pd.DataFrame | None = None) -> EntraPrediction:
    """Predict the job's next cycle. Pure: reads frames and the schema, writes nothing."""
    from .planfile import SyncPlan

    pair = check_pair(source.cloud, target.cloud)
    if isinstance(schema, dict):
        schema = translate_schema(schema, pair_kind=pair.kind)
    if source.tenant_id and target.tenant_id and source.tenant_id.lower() == target.tenant_id.lower():
        raise InputError(f"the source and the target are the same tenant ({source.tenant_id})",
                         hint="Give the target tenant's profile or snapshot as --target.")
    users = _keys_as_objects(source.users.reset_index(drop=True))
    tgt = _keys_as_objects(target.users.reset_index(drop=True))
    n = len(users)
    ids = users["id"].to_numpy(dtype=object)

    # --- scope: assignment (direct members of assigned groups, assigned users) and the scoping filter -------
    empty_groups: list[str] = []
    if job.sync_all:
        assigned = np.ones(n, dtype=bool)
    else:
        members: set[str] = set()
        if job.assigned_groups:
            gm = source.group_members
            wanted = {g.lower() for g in job.assigned_groups}
            hit = (_lower(gm["groupId"]).isin(wanted) | _lower(gm["groupDisplayName"]).isin(wanted)).to_numpy()
            known = set(_lower(gm["groupId"]).dropna()) | set(_lower(gm["groupDisplayName"]).dropna())
            # A group without member rows is empty or was not exported: said in the header, not refused (an
            # empty assigned group is legitimate).
            empty_groups = sorted(g for g in job.assigned_groups if g.lower() not in known)
            members = set(gm.loc[hit, "memberId"].dropna().astype(str))
        members |= set(job.assigned_users)
        assigned = _obj(users["id"]).isin(members).to_numpy()
    in_filter, filter_unknown, filter_reason = evaluate_scope(schema, users)
    in_filter, filter_unknown = in_filter.to_numpy(), filter_unknown.to_numpy()
    # Internal members only: not guests, not B2B users (invited, or with an external #EXT# UPN) (graph-facts 3).
    internal = ((users["userType"].fillna("Member") == "Member")
                & (users["creationType"].isna() | (users["creationType"] != "Invitation"))
                & ~users["userPrincipalName"].astype("string").str.upper().str.contains("#EXT#", regex=False)
                .fillna(False)).to_numpy()
    enabled = users["accountEnabled"].fillna(True).astype(bool).to_numpy()

    # --- links the job holds, and which target users exist ---------------------------------------------------
    tgt_by_id = tgt.set_index("id", drop=False)
    links = job.links if job.links is not None else pd.DataFrame(columns=["sourceId", "targetId"])
    links = links.dropna().drop_duplicates("sourceId", keep="last")
    links = pd.DataFrame({c: _obj(links[c].astype("string")) for c in ("sourceId", "targetId")})
    # A link to a target user the export does not list: soft-deleted (or not exported). Whether a cycle restores
    # it is contradictory in Microsoft's pages (overview FAQ: restored; [CTS-PORTAL]: not restored).
    present_target = links["targetId"].isin(set(tgt_by_id.index)).to_numpy()
    gone = dict(zip(links.loc[~present_target, "sourceId"], links.loc[~present_target, "targetId"]))
    links = links[present_target]
    link_of = dict(zip(links["sourceId"].astype(str), links["targetId"].astype(str)))
    linked_targets = set(link_of.values())

    # Address keys of target users not linked to anyone: what a create would run into.
    free = tgt[~_obj(tgt["id"]).isin(linked_targets).to_numpy()]
    ext_addr = _external_upn_to_address(free["userPrincipalName"])
    is_external = (free["creationType"].fillna("") == "Invitation") | ext_addr.notna()
    state = free["externalUserState"].astype("object").where(free["externalUserState"].notna(), None) \
        if "externalUserState" in free.columns else pd.Series([None] * len(free), index=free.index)
    by_address: dict[str, list[tuple[str, str]]] = {}   # address -> [(target id, kind)]
    for tid, mail, upn_addr, upn, ext, st in zip(free["id"], _lower(free["mail"]), ext_addr,
                                                 _lower(free["userPrincipalName"]), is_external, state):
        kind = ("accepted" if ext and st == "Accepted" else "pending" if ext and st == "PendingAcceptance"
                else "external" if ext else "internal")
        for key in {mail, upn_addr, None if ext else upn} - {None}:
            by_address.setdefault(key, []).append((tid, kind))
    if "proxyAddresses" in free.columns:
        for tid, ext, lst in zip(free["id"], is_external, free["proxyAddresses"]):
            if not ext and isinstance(lst, (list, tuple, np.ndarray)):
                for a in lst:
                    key = str(a).split(":", 1)[-1].lower()
                    if (tid, "internal") not in by_address.get(key, []):
                        by_address.setdefault(key, []).append((tid, "internal"))

    src_mail = _lower(users["mail"]).to_numpy(dtype=object)
    src_upn = _lower(users["userPrincipalName"]).to_numpy(dtype=object)
    verified = _verified_domains(source)
    candidates = assigned & internal & in_filter & ~filter_unknown
    dup_mail = pd.Series(src_mail).where(candidates).dropna()
    dup_mail = set(dup_mail[dup_mail.duplicated(keep=False)])

    # --- mapped values for every user the cycle may write ----------------------------------------------------
    mapping = schema.mapping()
    unevaluable = dict(schema.unpredictable())
    for r in mapping.rules:
        lacking = sorted(r.expression.attributes - set(users.columns))
        if lacking:
            unevaluable[r.target] = f"cannot predict: the source export has no attribute {', '.join(lacking)}"
    rules = [r for r in mapping.rules if r.target not in unevaluable]
    sel = users[candidates | _obj(users["id"]).isin(set(link_of)).to_numpy()]
    values = (_mapped_values(replace(mapping, rules=tuple(rules)), sel) if len(sel)
              else pd.DataFrame({r.target: pd.Series(dtype="object") for r in rules}))
    values.index = sel["id"].to_numpy(dtype=object)

    outcomes: list[dict] = []
    frames: list[pd.DataFrame] = []            # outcome rows computed column-wise (updates, creates)
    change_frames: list[pd.DataFrame] = []
    pending_updates: list[tuple[str, str, str]] = []
    pending_creates: list[str] = []
    # Mapped values as comparable text, once per attribute (column-wise: a per-user loop here cost ~4 ms/user).
    texts = {r.target: pd.Series(_text(values[r.target]), index=values.index, dtype="object") for r in rules}
    too_long: dict[str, list[str]] = {}
    for attr, limit in TARGET_LIMITS.items():
        if attr in values.columns:
            lengths = values[attr].astype("string").str.len().fillna(0).to_numpy()
            for sid, length in zip(values.index[lengths > limit], lengths[lengths > limit]):
                too_long.setdefault(sid, []).append(f"{attr} is {int(length)} characters, Graph allows {limit}")

    def emit(sid: Any, tid: Any, outcome: str, reason: str | None = None, matched: str | None = None,
             cannot: list[str] | None = None) -> str:
        op_id = _op_id(outcome, sid, tid)
        outcomes.append({"sourceId": sid, "targetId": tid, "outcome": outcome, "reason": reason,
                         "matchedBy": matched, "cannotPredict": "; ".join(cannot) if cannot else None,
                         "licence": None, "opId": op_id})
        return op_id

    schema_blocker = "; ".join(schema.problems) if schema.problems else None
    if not schema.enabled:
        schema_blocker = "the schema's user object mapping is disabled: the job processes no users"
    create_cannot = [f"{t}: {why}" for t, why in unevaluable.items()]

    for i in range(n):
        sid = ids[i]
        tid = link_of.get(sid)
        considered = assigned[i] or tid is not None
        if not considered:
            continue
        if sid in gone and not schema_blocker:
            emit(sid, gone[sid], "unknown", "its linked target user is not among the target's users (soft-deleted "
                                            "or not exported): Microsoft's pages disagree on whether a cycle "
                                            "restores it")
            continue
        if schema_blocker:
            emit(sid, tid, "unknown", schema_blocker)
            continue
        in_scope_i = assigned[i] and internal[i] and in_filter[i]
        if assigned[i] and internal[i] and filter_unknown[i]:
            emit(sid, tid, "unknown", filter_reason.iloc[i])
            continue
        if not in_scope_i:
            if tid is None:
                why = ("external source user: only internal members are synchronized" if not internal[i] else
                       "out of scope: the scoping filter does not match")
                emit(sid, None, "skip", why)
                continue
            why = ("the source user is no longer assigned (not a direct member of an assigned group)"
                   if not assigned[i] else "the source user became external" if not internal[i] else
                   "the source user no longer matches the scoping filter")
            _deprovision(emit, sid, tid, why, enabled[i], tgt_by_id, schema)
            continue
        if tid is not None:
            pending_updates.append((sid, tid, "log"))
            continue
        # Not linked: an existing B2B user Entra would match, or a create (and why it would fail).
        keys = {k for k in (src_mail[i], src_upn[i]) if k}
        hits = {(t, k) for key in keys for t, k in by_address.get(key, [])}
        accepted = sorted({t for t, k in hits if k == "accepted"})
        others = {k for _, k in hits if k != "accepted"}
        if len(accepted) == 1 and not others:
            pending_updates.append((sid, accepted[0], "b2b"))
            continue
        if len(accepted) > 1:
            emit(sid, None, "fail", "several redeemed B2B users in the target have its address ("
                 + ", ".join(str(tgt_by_id.at[t, "userPrincipalName"]) for t in accepted)
                 + "): resolve by hand, ccsync never guesses which one Entra links")
            continue
        if "external" in others and not others & {"internal", "pending"}:
            # An external user whose redemption state the export does not show: it may carry this user's
            # alternativeSecurityIds (a link older than the logs) or not; ccsync cannot read the anchor.
            emit(sid, None, "unknown", "an external target user has its address, but neither the provisioning "
                                       "logs nor its redemption state tell whether Entra will match it")
            continue
        if src_mail[i] and src_mail[i] in dup_mail:
            # Known issue: two source users with one mail get ONE target user, linked to both; which of them is
            # created is not documented.
            emit(sid, None, "unknown", "shares its mail with another source user in scope: Entra creates one target "
                                       "user and links both (known issue); which one it creates is not documented")
            continue
        if "Add" not in schema.flow_types:
            emit(sid, None, "skip", "the schema's user mapping does not allow Add (Target Object Actions: Create)")
            continue
        reasons = _create_failures(i, src_mail, src_upn, hits, dup_mail, verified, too_long.get(sid, []),
                                   tgt_by_id)
        if reasons:
            emit(sid, None, "fail", "; ".join(reasons))
            continue
        pending_creates.append(sid)

    exported = None
    if job.exported is not None:
        exported = {}
        for sid_, attr_, value_ in zip(job.exported["sourceId"], job.exported["attribute"], job.exported["value"]):
            exported.setdefault(sid_, {})[attr_] = value_
    _updates(pending_updates, texts, tgt_by_id, rules, schema, unevaluable, frames, change_frames, exported)
    _creates(pending_creates, texts, rules, create_cannot, frames, change_frames)

    # Linked target users whose source user no longer exists: soft delete.
    present = set(ids)
    for sid, tid in link_of.items():
        if sid not in present and not schema_blocker:
            _deprovision(emit, sid, tid, "the source user no longer exists", True, tgt_by_id, schema)

    out = pd.concat([pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS + ["opId"]), *frames], ignore_index=True)
    # Accidental deletions: deletes and disables together, per cycle; above the threshold the job quarantines
    # (TooManyDeletes) and holds them (accidental-deletions.md). "Above" = more than the threshold.
    threshold = job.deletion_threshold
    destructive = out["outcome"].isin(["delete", "disable"])
    quarantine = threshold is not None and int(destructive.sum()) > threshold
    out["held"] = destructive & quarantine

    # Licence gaps (cross-cloud): listed per user, with the SKU and seats that fix them; Entra's job does not
    # check licences, so they do not change the predicted outcome.
    seats: list[dict] = []
    if pair.kind == "cross-cloud" and len(out):
        writes = out[out["outcome"].isin(["create", "update", "disable"])]
        if eligibility is None:
            from ..licensing import evaluate_eligibility
            result = evaluate_eligibility(source, source.cloud, target.cloud,
                                          scope_user_ids=set(writes["sourceId"].astype(str)), catalog=catalog)
            eligibility = result.users
            seats = json.loads(result.seats.to_json(orient="records")) if len(result.seats) else []
        el = eligibility.set_index("userId")
        gap = el[(el["eligible"] != True) & el.index.isin(writes["sourceId"])]  # noqa: E712 (nullable)
        text = (gap["status"].astype(str) + ": " + gap["reason"].astype(str) + " Fix: "
                + gap["fix"].astype("string").fillna("").astype(str))
        out["licence"] = out["sourceId"].map(text).where(out["outcome"].isin(["create", "update", "disable"]))

    src_view = users.set_index("id")
    tgt_upn = tgt_by_id["userPrincipalName"]
    out = out.assign(sourceUpn=out["sourceId"].map(src_view["userPrincipalName"]),
                     sourceMail=out["sourceId"].map(src_view["mail"]),
                     targetUpn=out["targetId"].map(tgt_upn))
    changes = (pd.concat(change_frames, ignore_index=True)[CHANGES_COLUMNS] if change_frames
               else pd.DataFrame(columns=CHANGES_COLUMNS))
    ops = out[out["outcome"] != "unchanged"].rename(columns={"outcome": "kind"})
    counts = changes.groupby("opId").size() if len(changes) else pd.Series(dtype="int64")
    ops = ops.assign(changeCount=ops["opId"].map(counts).fillna(0).astype("int64"))
    order = {k: i for i, k in enumerate(ENTRA_KINDS)}
    ops = ops.assign(_k=ops["kind"].map(order), _u=ops["sourceUpn"].astype("string").str.lower().fillna(""),
                     _t=ops["targetUpn"].astype("string").str.lower().fillna(""),
                     _s=ops["sourceId"].astype("string").fillna(""))
    ops = ops.sort_values(["_k", "_u", "_t", "_s"], kind="mergesort")
    ops = ops[OPS_COLUMNS + ["cannotPredict", "licence"]].reset_index(drop=True)
    ops["held"] = ops["held"].astype(bool)

    from .. import __version__
    in_scope_count = int((assigned & internal & in_filter).sum())
    header = {
        "format": "ccsync-plan/1",
        "engine": "entra",
        "toolkitVersion": __version__,
        "asOf": max(filter(None, [source.exported_at, target.exported_at]), default=""),
        "source": _tenant_header(source, in_scope_count, in_scope_count),
        "target": _tenant_header(target),
        "pair": pair.to_dict(),
        "options": {"deletionThreshold": threshold},
        "job": {**job.to_dict(), "assignedGroupsWithoutMembers": empty_groups},
        "schema": schema.to_dict(),
        "cycle": {"quarantine": "TooManyDeletes" if quarantine else None,
                  "deletesAndDisables": int(destructive.sum()),
                  "unchanged": int((out["outcome"] == "unchanged").sum())},
        "licenceSeats": seats,
        "notEvaluated": list(NOT_EVALUATED) + ([] if job.exported is not None else [
            "what the job last wrote per user was not given (its provisioning logs): updates are predicted by "
            "comparing with the target, so a target-side edit (which Entra keeps until the source user changes) "
            "shows as an update"]),
    }
    plan = SyncPlan(header=header, ops=ops, changes=changes)
    return EntraPrediction(plan=plan, outcomes=out[OUTCOME_COLUMNS + ["held"]].reset_index(drop=True),
                           schema=schema)


def _deprovision(emit, sid, tid, why: str, source_enabled: bool, tgt_by_id: pd.DataFrame,
                 schema: EntraSchema) -> None:
    if "Delete" not in schema.flow_types:
        emit(sid, tid, "skip", f"{why}, but the schema's user mapping does not allow Delete: the target user "
                               "stays")
        return
    if not source_enabled:
        # Documented edge (overview FAQ "Deprovisioning"): a user disabled, provisioned, then removed from the
        # group is not soft-deleted. ccsync cannot see the order of those events.
        emit(sid, tid, "unknown", f"{why} while disabled: Entra does not soft-delete a user that was disabled "
                                  "before it was provisioned, and ccsync cannot tell the order of events")
        return
    emit(sid, tid, "delete", f"{why} (soft delete, restorable for 30 days)", "log")


def _flag(v: object) -> object:
    """Booleans as the logs ("True") and the mapping ("true") write them, compared as one."""
    return v.lower() if isinstance(v, str) and v.lower() in ("true", "false") else v


def _updates(pending: list[tuple[str, str, str]], texts: dict[str, pd.Series], tgt_by_id: pd.DataFrame, rules,
             schema: EntraSchema, unevaluable: dict[str, str], frames: list, change_frames: list,
             exported: dict[str, dict[str, object]] | None = None) -> None:
    """Linked users: update / disable / unchanged / skip, with the attribute changes, column-wise."""
    if not pending:
        return
    sids = np.array([p[0] for p in pending], dtype=object)
    tids = np.array([p[1] for p in pending], dtype=object)
    matched = np.array([p[2] for p in pending], dtype=object)
    # What cannot be predicted for an update depends on the schema and the exports only: the same for everyone.
    cannot = [f"{t}: {why}" for t, why in unevaluable.items()]
    compared = []
    for r in rules:
        if r.once:
            continue
        attr = schema.attribute(r.target)
        if attr is not None and attr.update_problem:
            cannot.append(f"{r.target}: {attr.update_problem}")
        elif r.target not in tgt_by_id.columns:
            cannot.append(f"{r.target}: cannot predict updates: the target export has no attribute {r.target}")
        else:
            compared.append((r.target, attr is not None and attr.add_only))
    cannot_text = "; ".join(cannot) or None
    base = {"sourceId": sids, "targetId": tids, "matchedBy": matched, "cannotPredict": cannot_text, "licence": None}
    if "Update" not in schema.flow_types:
        ids = [_op_id("skip", s, t) for s, t in zip(sids, tids)]
        frames.append(pd.DataFrame({**base, "outcome": "skip", "opId": ids,
                                    "reason": "the schema's user mapping does not allow Update"}))
        return
    diffs = []
    any_diff = np.zeros(len(sids), dtype=bool)
    disable = np.zeros(len(sids), dtype=bool)
    for target, add_only in compared:
        new = texts[target].reindex(sids).to_numpy(dtype=object)
        old = _text(tgt_by_id[target].reindex(tids))
        diff = ~pd.isna(new) & (new != old)            # Entra does not provision nulls
        if add_only:
            diff &= pd.isna(old)                       # AttributeAddOnly: only when the target has no value
        if target == "accountEnabled":
            disable |= diff & (new == "false")
        any_diff |= diff
        diffs.append((target, diff, old, new))
    reason = np.where(disable, "the source account is disabled", None).astype(object)
    if exported is not None:
        # Sync does not read the target: when every mapped value is what the job last wrote, the source user has
        # not changed and nothing is written, whatever was edited in the target (overview FAQ: target edits persist
        # until the source user changes; then the mapped values are written again).
        kept = np.zeros(len(sids), dtype=bool)
        blind = np.zeros(len(sids), dtype=bool)
        watched = [r.target for r in rules if not r.once]
        news = {a: texts[a].reindex(sids).to_numpy(dtype=object) for a in watched}
        for i, (sid, how) in enumerate(zip(sids, matched)):
            if how != "log":
                continue                               # a first match: Entra compares with the target user
            last = exported.get(sid)
            if last is None:
                blind[i] = any_diff[i]
                continue
            kept[i] = all(news[a][i] is None or _flag(news[a][i]) == _flag(last.get(a)) for a in watched)
        for _, diff, _, _ in diffs:
            diff &= ~kept & ~blind
        any_diff &= ~kept & ~blind
        disable &= ~kept & ~blind
        reason = np.where(disable, "the source account is disabled", None).astype(object)
        reason[blind] = ("the target user differs from the mapped values, and the job's provisioning logs do not "
                         "show what it last wrote for this user: ccsync cannot tell a target-side edit (kept) from a "
                         "source change (written)")
        outcome = np.where(blind, "unknown", np.where(disable, "disable", np.where(any_diff, "update", "unchanged")))
    else:
        outcome = np.where(disable, "disable", np.where(any_diff, "update", "unchanged"))
    ids = np.array([_op_id(o, s, t) for o, s, t in zip(outcome, sids, tids)], dtype=object)
    frames.append(pd.DataFrame({**base, "outcome": outcome, "opId": ids, "reason": reason}))
    for target, diff, old, new in diffs:
        if diff.any():
            change_frames.append(pd.DataFrame({"opId": ids[diff], "attribute": target, "oldValue": old[diff],
                                               "newValue": new[diff], "flow": "always"}))


def _creates(pending: list[str], texts: dict[str, pd.Series], rules, create_cannot: list[str], frames: list,
             change_frames: list) -> None:
    if not pending:
        return
    sids = np.array(pending, dtype=object)
    ids = np.array([_op_id("create", s, None) for s in sids], dtype=object)
    frames.append(pd.DataFrame({"sourceId": sids, "targetId": None, "outcome": "create", "reason": None,
                                "matchedBy": None, "cannotPredict": "; ".join(create_cannot) or None,
                                "licence": None, "opId": ids}))
    for r in rules:
        new = texts[r.target].reindex(sids).to_numpy(dtype=object)
        keep = ~pd.isna(new)
        if keep.any():
            change_frames.append(pd.DataFrame({"opId": ids[keep], "attribute": r.target, "oldValue": None,
                                               "newValue": new[keep], "flow": "once" if r.once else "always"}))


def _create_failures(i: int, src_mail, src_upn, hits: set, dup_mail: set, verified: set[str],
                     too_long: list[str], tgt_by_id: pd.DataFrame) -> list[str]:
    reasons: list[str] = []
    mail = src_mail[i]
    if mail is None and src_upn[i] is None:
        reasons.append("has no mail or userPrincipalName to invite")
    if mail and verified and mail.rsplit("@", 1)[-1] not in verified:
        reasons.append(f"its mail {mail} is not on a domain verified in the source tenant: Entra cannot create it")
    upn_of = tgt_by_id["userPrincipalName"]
    for tid, kind in sorted(hits):
        if kind == "internal":
            reasons.append(f"an internal target user ({upn_of.get(tid)}) has its address: sync cannot match "
                           "internal users and the invitation fails (InvitationCreationFailureAmbiguousUser)")
        elif kind == "pending":
            reasons.append(f"the target user {upn_of.get(tid)} is a B2B user still PendingAcceptance: it has no "
                           "alternativeSecurityIds, so the job will not join it; provision the user on demand or "
                           "restart the job after it redeems")
    return reasons + too_long
