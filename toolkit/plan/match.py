"""Matching: which target user each in-scope source user is, or why that is a conflict (never a guess).

Precedence (graph-facts.md section 3; the planner's docstring): (1) ccsync's durable link, (2) mail,
case-insensitive, (3) the source UPN against the target's mail or an external user's address (and, creating
members, the target's UPN). Only the first level that has any candidate counts. Targets linked to this source
are reserved for the link: never matched by mail or UPN.

The link level is a hash join over Arrow columns (almost every user of a synced tenant is matched there); mail
and UPN are matched only for the source users the link left without a candidate, against the unlinked targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import arrowtext as at
from .columns import external_upn_to_address, keys_as_objects, lower_text
from .decisions import Decisions
from .options import PlanOptions
from .tables import SourceUsers, TargetUsers

__all__ = ["Matches", "match_users", "plan_match_conflicts", "looks_entra_synced"]


@dataclass
class Matches:
    """Source users matched to exactly one target user (positions into the candidates and the target, in the
    order the plan lists them: link matches, then mail, then UPN), and the conflicts (sourceId, reason)."""

    source_pos: np.ndarray
    target_pos: np.ndarray
    matched_by: np.ndarray          # "link" | "mail" | "upn" (objects)
    conflicts: pd.DataFrame
    # Per target user: the candidate its link names (-1: no link to this source, or the source is not in scope).
    link_owner: np.ndarray


_LEVEL_NAMES = {1: "link", 2: "mail", 3: "upn"}


def match_users(src: SourceUsers, tgt: TargetUsers, options: PlanOptions) -> Matches:
    """Match every candidate: by link for all of them, by mail or UPN for those without a linked target."""
    ours = np.flatnonzero(tgt.linked)
    owner = at.positions_in(at.take(tgt.link_source, ours), src.id)     # candidate each linked target names
    hit = owner >= 0
    link_owner = np.full(len(tgt), -1, dtype=np.int64)
    link_owner[ours] = owner
    pair_src, pair_tgt = owner[hit], ours[hit]
    per_source = np.bincount(pair_src, minlength=len(src))
    unique = per_source[pair_src] == 1
    order = np.argsort(pair_src[unique], kind="stable")                  # the candidates' order
    link_src, link_tgt = pair_src[unique][order], pair_tgt[unique][order]

    # Several targets linked to one source (ambiguous), and everyone without a link: decided row by row below.
    ambiguous = pd.DataFrame({"s": pair_src[~unique], "t": pair_tgt[~unique], "level": 1})
    rest = np.flatnonzero(per_source == 0)
    free = np.flatnonzero(~tgt.linked)
    cand = [ambiguous]
    if len(rest) and len(free):
        cand.append(_mail_and_upn_candidates(src, rest, tgt, free, options))
    cand = pd.concat(cand, ignore_index=True) if len(cand) > 1 else ambiguous
    if cand.empty:
        return Matches(link_src, link_tgt, np.full(len(link_src), "link", dtype=object),
                       pd.DataFrame(columns=["sourceId", "reason"]), link_owner)
    s_pos, t_pos = np.unique(cand["s"].to_numpy()), np.unique(cand["t"].to_numpy())
    s_ids = at.objects(at.take(src.id, s_pos))
    t_frame = keys_as_objects(tgt.frame.iloc[t_pos])
    cand = pd.DataFrame({"sourceId": s_ids[np.searchsorted(s_pos, cand["s"].to_numpy())],
                         "targetId": t_frame["id"].to_numpy()[np.searchsorted(t_pos, cand["t"].to_numpy())],
                         "level": cand["level"].to_numpy()})
    matches, conflicts = _decide(cand, t_frame, options)
    more_src = s_pos[pd.Index(s_ids).get_indexer(matches["sourceId"])]
    more_tgt = t_pos[pd.Index(t_frame["id"].to_numpy()).get_indexer(matches["targetId"])]
    return Matches(np.concatenate([link_src, more_src]).astype(np.int64),
                   np.concatenate([link_tgt, more_tgt]).astype(np.int64),
                   np.concatenate([np.full(len(link_src), "link", dtype=object),
                                   matches["matchedBy"].to_numpy(dtype=object)]), conflicts, link_owner)


def plan_match_conflicts(src: SourceUsers, matches: Matches) -> Decisions:
    """The conflicts matching found, as operations of their source users (no target: ccsync never guesses)."""
    out = Decisions()
    conflicts = matches.conflicts
    if len(conflicts):
        ids = conflicts["sourceId"].to_numpy(dtype=object)
        found = at.positions_in(at.from_objects(ids), src.id)
        out.add("conflict", len(conflicts), sourceId=ids, sourceUpn=at.take(src.upn, found),
                sourceMail=at.take(src.mail, found), reason=conflicts["reason"].to_numpy(dtype=object))
    return out


def _mail_and_upn_candidates(src: SourceUsers, rest: np.ndarray, tgt: TargetUsers, free: np.ndarray,
                             options: PlanOptions) -> pd.DataFrame:
    """(s, t, level) pairs by mail (2) and by UPN (3) of the source users ``rest`` against the targets ``free``
    (positions), in the order the plan has always listed them."""
    def keys(values: pd.Series) -> pd.Series:
        return pd.Series(values.to_numpy(), dtype="object")     # compared as Python text, as always

    s = pd.DataFrame({"s": rest, "_mail": keys(lower_text(src.frame["mail"].iloc[rest])),
                      "_upn": keys(lower_text(src.frame["userPrincipalName"].iloc[rest]))})
    t_upn = tgt.frame["userPrincipalName"].iloc[free]
    t = pd.DataFrame({"t": free, "_mail": keys(lower_text(tgt.frame["mail"].iloc[free])),
                      "_upn": keys(lower_text(t_upn)), "_extAddr": keys(external_upn_to_address(t_upn))})
    by_mail = s.loc[s["_mail"].notna(), ["s", "_mail"]].merge(t.loc[t["_mail"].notna(), ["t", "_mail"]],
                                                               on="_mail")
    keys = []
    for col in ("_mail", "_extAddr"):
        keys.append(s.loc[s["_upn"].notna(), ["s", "_upn"]].merge(
            t.loc[t[col].notna(), ["t", col]], left_on="_upn", right_on=col))
    if options.create_as == "member":
        keys.append(s.loc[s["_upn"].notna(), ["s", "_upn"]].merge(t[["t", "_upn"]], on="_upn"))
    by_upn = pd.concat([k[["s", "t"]] for k in keys], ignore_index=True).drop_duplicates()
    return pd.concat([by_mail[["s", "t"]].assign(level=2), by_upn.assign(level=3)], ignore_index=True)


def _decide(cand: pd.DataFrame, tgt: pd.DataFrame, options: PlanOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From candidate pairs (sourceId, targetId, level) to (matches: sourceId, targetId, matchedBy) and
    (conflicts: sourceId, reason). ``tgt``: the candidate targets' rows (key columns as objects)."""
    cand = cand.drop_duplicates(["sourceId", "targetId"])
    best = cand.groupby("sourceId")["level"].transform("min")
    cand = cand[cand["level"] == best]
    n_targets = cand.groupby("sourceId")["targetId"].transform("nunique")
    n_sources = cand.groupby("targetId")["sourceId"].transform("nunique")
    level_name = cand["level"].map(_LEVEL_NAMES)
    tgt_upn = tgt.set_index("id")["userPrincipalName"]
    ambiguous = cand[n_targets > 1]
    shared = cand[(n_targets == 1) & (n_sources > 1)]
    conflicts = []
    if not ambiguous.empty:
        names = ambiguous.assign(u=ambiguous["targetId"].map(tgt_upn)).groupby("sourceId")["u"].apply(
            lambda s: ", ".join(sorted(map(str, s))))
        lvl = ambiguous.groupby("sourceId")["level"].first().map({1: "link", 2: "mail", 3: "UPN"})
        conflicts.append(pd.DataFrame({"sourceId": names.index,
                                       "reason": "matches several target users by " + lvl.values + ": "
                                                 + names.values + "; resolve by hand, ccsync never guesses"}))
    if not shared.empty:
        others = shared.groupby("targetId")["sourceId"].apply(lambda s: len(s))
        conflicts.append(pd.DataFrame({
            "sourceId": shared["sourceId"].values,
            "reason": ("the target user " + shared["targetId"].map(tgt_upn).astype(str).values + " is matched by "
                       + shared["targetId"].map(others).astype(str).values
                       + " source users (same mail or UPN): Entra would link them all to one user")}))
    ok = cand[(n_targets == 1) & (n_sources == 1)]
    if options.create_as == "invite":
        # Entra cannot match a source user to an INTERNAL target user; only a link ccsync wrote may adopt one.
        internal_ids = set(tgt.loc[tgt["creationType"].isna() & (tgt["userType"].fillna("Member") == "Member"),
                                   "id"])
        takeover = ok[(ok["level"] > 1) & ok["targetId"].isin(internal_ids)]
        if not takeover.empty:
            conflicts.append(pd.DataFrame({
                "sourceId": takeover["sourceId"].values,
                "reason": ("matches " + takeover["targetId"].map(tgt_upn).astype(str).values
                           + ", an internal user of the target: Entra cross-tenant sync cannot take over internal "
                             "users; remove or convert that user, or take this user out of scope")}))
            ok = ok[~ok.index.isin(takeover.index)]
    adoptions = ok[ok["level"] > 1]
    if not adoptions.empty:
        refused = _adoption_refusals(adoptions, tgt, options)
        if not refused.empty:
            conflicts.append(refused)
            ok = ok[~ok["sourceId"].isin(set(refused["sourceId"]))]
    matches = pd.DataFrame({"sourceId": ok["sourceId"].values, "targetId": ok["targetId"].values,
                            "matchedBy": level_name[ok.index].values})
    conflict_frame = (pd.concat(conflicts, ignore_index=True).drop_duplicates("sourceId")
                      if conflicts else pd.DataFrame(columns=["sourceId", "reason"]))
    return matches, conflict_frame


def looks_entra_synced(tgt: pd.DataFrame) -> pd.Series:
    """Target users Entra's own cross-tenant sync created: linked to their source by ``alternativeSecurityIds``.

    Graph v1.0 does not return ``alternativeSecurityIds`` on users (docs/direct-engine.md), so a snapshot
    that carries the property (saved beta JSON, the simulator's sync engine) is read as is, and otherwise the
    shape Entra's sync gives its users is used: an external *member* (creationType Invitation, userType
    Member) that was pre-redeemed (externalUserState Accepted).
    """
    if "alternativeSecurityIds" in tgt.columns:
        has = tgt["alternativeSecurityIds"].map(lambda v: isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0)
    else:
        has = pd.Series(False, index=tgt.index)
    shape = ((tgt["creationType"].astype("string") == "Invitation")
             & (tgt["userType"].astype("string").fillna("Member") == "Member")
             & (tgt["externalUserState"].astype("string") == "Accepted")).fillna(False)
    return (has.astype(bool) | shape.astype(bool))


def _adoption_refusals(adoptions: pd.DataFrame, tgt: pd.DataFrame, options: PlanOptions) -> pd.DataFrame:
    """Mail/UPN matches ccsync may not take over: Entra-synced users always, any user without --adopt."""
    synced = pd.Series(looks_entra_synced(tgt).to_numpy(dtype=bool), index=tgt["id"].to_numpy())
    is_synced = adoptions["targetId"].map(synced).fillna(False).astype(bool).to_numpy()
    if not options.adopt:
        refused = adoptions
    else:
        refused = adoptions[is_synced]
        is_synced = is_synced[is_synced]
    if refused.empty:
        return pd.DataFrame(columns=["sourceId", "reason"])
    users = tgt.set_index("id").loc[refused["targetId"].to_numpy()]
    upn = users["userPrincipalName"].astype(str).to_numpy()
    synced_reason = ("matches " + upn + ", a user Entra's own cross-tenant sync created (an external member linked "
                     "to its source by alternativeSecurityIds): ccsync never adopts it; keep it with Entra's sync, "
                     "or take this user out of scope")
    how = np.where(users["creationType"].astype("string").fillna("") == "Invitation", "invited", "created")
    day = users["createdDateTime"].astype("string").str.slice(0, 10).fillna("").to_numpy(dtype=object) \
        if "createdDateTime" in users.columns else np.full(len(users), "", dtype=object)
    state = users["externalUserState"].astype("string").fillna("").to_numpy(dtype=object)
    who = [f" ({h}{' on ' + d if d else ''} by someone other than ccsync{', ' + st if st else ''})"
           for h, d, st in zip(how, day, state)]
    adopt_reason = ("would adopt " + upn + ", a user ccsync did not create" + np.array(who, dtype=object)
                    + ": review it, then plan again with --adopt to take it over (ccsync writes its link, and may "
                      "later disable or delete it)")
    return pd.DataFrame({"sourceId": refused["sourceId"].to_numpy(),
                         "reason": np.where(is_synced, synced_reason, adopt_reason)})
