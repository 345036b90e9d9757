"""Unmatched in-scope users: which are created (with their mapped values, the durable link, and the requested
licences and groups), and which cannot be: a create Graph or Entra would refuse is a conflict naming why, a user
the licence gate blocks is blocked. Disabled source users are not created (Entra: "Active in the source system").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import TenantData
from . import arrowtext as at
from .columns import lower_text, verified_domains
from .decisions import Decisions
from .gate import LicenceGate
from .mapped import MappedValues
from .match import Matches
from .options import PlanOptions
from .rules import TARGET_LIMITS, Mapping
from .tables import SourceUsers, TargetUsers

__all__ = ["plan_creates", "create_problems", "address_owners"]


def plan_creates(src: SourceUsers, tgt: TargetUsers, target: TenantData, source: TenantData, matches: Matches,
                 values: MappedValues, gate: LicenceGate, mapping: Mapping, options: PlanOptions,
                 link_column: str, link_prefix: str) -> Decisions:
    """Creates of the active in-scope users nobody matched or conflicted, with their changes."""
    out = Decisions()
    taken = np.zeros(len(src), dtype=bool)
    taken[matches.source_pos] = True
    if len(matches.conflicts):
        conflicted = at.from_objects(matches.conflicts["sourceId"].to_numpy(dtype=object))
        taken |= at.mask(pc.is_in(src.id, value_set=conflicted))
    active = src.frame["accountEnabled"].fillna(True).astype(bool).to_numpy()
    pos = np.flatnonzero(~taken & active)
    if not len(pos):
        return out
    ids = at.objects(at.take(src.id, pos))
    problems = create_problems(src.frame.iloc[pos], values.frame(pos, ids), tgt.frame, target, options, source)
    bad = pd.Index(problems.index).get_indexer(ids) if len(problems) else np.full(len(pos), -1)
    is_bad = bad >= 0

    def fields(rows: np.ndarray) -> dict:
        p = pos[rows]
        return {"sourceId": ids[rows], "sourceUpn": at.take(src.upn, p), "sourceMail": at.take(src.mail, p)}

    if is_bad.any():
        rows = np.flatnonzero(is_bad)
        out.add("conflict", len(rows), **fields(rows), reason=problems.to_numpy(dtype=object)[bad[rows]])
    blocked = ~is_bad & gate.blocked[pos]
    if blocked.any():
        rows = np.flatnonzero(blocked)
        out.add("blocked", len(rows), **fields(rows), reason=gate.reason[pos[rows]])
    rows = np.flatnonzero(~is_bad & ~blocked)
    if len(rows):
        op = out.add("create", len(rows), **fields(rows))
        _create_changes(out, op, pos[rows], ids[rows], values, mapping, link_column, link_prefix)
        for attr, wanted in (("@assignLicense", options.target_licenses), ("@addToGroup", options.target_groups)):
            for value in wanted:
                out.change(op, attr, None, value, "once")
    return out


def _create_changes(out: Decisions, op: np.ndarray, pos: np.ndarray, ids: np.ndarray, values: MappedValues,
                    mapping: Mapping, link_column: str, link_prefix: str) -> None:
    """Every mapped value that is not null, attribute by attribute, then the link: one change each."""
    blocks = []
    for rule in mapping.rules:
        raw = values.raw(rule.target, pos)
        if isinstance(raw, pa.Array):
            rows = np.flatnonzero(at.present(raw))
            blocks.append((rule.target, rows, at.take(raw, rows), rule.flow))
        else:
            objs = raw.to_numpy(dtype=object, na_value=None)
            rows = np.flatnonzero(~pd.isna(objs))
            blocks.append((rule.target, rows, objs[rows], rule.flow))
    links = np.array([link_prefix + i for i in ids], dtype=object)
    blocks.append((link_column, np.arange(len(ids)), links, "always"))
    # As text, booleans become true/false only when the first value of all is one (how the plan always read
    # a mixed column); copied columns are text already.
    first = next((b[2][0] for b in blocks if len(b[1])), None)
    as_text = isinstance(first, (bool, np.bool_))
    for attr, rows, new, flow in blocks:
        if isinstance(new, np.ndarray) and as_text:
            new = new.copy()
            flags = np.fromiter((isinstance(v, (bool, np.bool_)) for v in new), dtype=bool, count=len(new))
            new[flags] = np.where(new[flags].astype(bool), "true", "false")
        out.change(op[rows], attr, None, new, flow)


def _mail_hits(mail: pd.Series, wanted: set[str]) -> pd.Series:
    """Target users whose mail, lower-cased, is one of ``wanted``: lower-cased address by row label."""
    if not at.is_arrow_text(mail):
        values = mail.dropna()
        address = values.astype("object").str.lower()
        return address[address.isin(wanted)]
    arr = at.text(mail)
    # Arrow lower-cases ASCII exactly as Python does; the rare other addresses are lower-cased by Python.
    ascii_ = at.mask(pc.string_is_ascii(arr))
    hit = at.mask(pc.is_in(pc.utf8_lower(arr), value_set=at.from_objects(sorted(wanted)))) & ascii_
    other = np.flatnonzero(at.present(arr) & ~ascii_)
    if len(other):
        lowered = [v.lower() for v in at.objects(at.take(arr, other))]
        hit[other[[v in wanted for v in lowered]]] = True
    rows = np.flatnonzero(hit)
    address = [v.lower() for v in at.objects(at.take(arr, rows))]
    return pd.Series(address, index=mail.index[rows], dtype="object")


def create_problems(to_create: pd.DataFrame, values: pd.DataFrame, tgt: pd.DataFrame, target: TenantData,
                     options: PlanOptions, source: TenantData | None = None) -> pd.Series:
    """Reasons why a create would fail, per source id (only users with a problem)."""
    reasons: dict[str, list[str]] = {}

    def note(ids: Any, text: Any) -> None:
        for i, t in zip(ids, text if not isinstance(text, str) else [text] * len(ids)):
            reasons.setdefault(i, []).append(t)

    ids = to_create["id"].to_numpy()
    if options.create_as == "invite":
        # Cross-cloud invitations go by UPN; the address must exist and be unique among the creates.
        address = lower_text(to_create["userPrincipalName"]).to_numpy()
        missing = pd.isna(address)
        note(ids[missing], "has no userPrincipalName to invite")
        mail = lower_text(to_create["mail"])
        dup_mail = mail.notna() & mail.duplicated(keep=False)
        note(ids[dup_mail.to_numpy()], "shares its mail with another source user: Entra would link both to one "
                                       "target user")
        # Entra: the source user's mail must be on a domain verified in the source tenant, or creation fails.
        source_verified = verified_domains(source) if source is not None else set()
        if source_verified:
            mail_domain = mail.map(lambda m: m.rsplit("@", 1)[-1] if isinstance(m, str) else None)
            off = (mail.notna() & ~mail_domain.isin(source_verified)).to_numpy()
            note(ids[off], [f"its mail {m} is not on a domain verified in the source tenant: Entra cannot "
                            "create it" for m in mail[off]])
        # The invitation goes to the UPN (the address actually invited), so that is the address that must be
        # free in the target: not the mail, a proxy address or another address of any object there.
        invited = pd.Series(address, dtype="object")
        owners = address_owners(tgt, target, {a for a in address if isinstance(a, str)})
        internal = ({str(i) for i in tgt.loc[tgt["creationType"].isna(), "id"]}
                    if any(w[1] == "user" for w in owners.values()) else set())
        hit_owner = invited.map(owners)
        for i, who in zip(ids, hit_owner):
            if not isinstance(who, tuple):
                continue
            oid, kind, name = who
            if kind == "user" and oid in internal:
                # Entra: a proxy address of an INTERNAL target user equal to the invited address makes the
                # invitation fail (InvitationCreationFailureAmbiguousUser).
                note([i], f"its invited address is a proxy address of {name}, an internal target user: the "
                          "invitation would fail (InvitationCreationFailureAmbiguousUser); remove the address "
                          "from that user or take this user out of scope")
            elif kind == "user":
                note([i], f"its invited address is already the mail or a proxy address of {name}, a target user "
                          "that is not linked to it: Entra would return that user or create one without a mail; "
                          "resolve it, or plan with --adopt if that user is this one")
            else:
                note([i], f"its invited address is already used by the target {kind} {name}: Entra would create "
                          "the user without that mail (address moved to otherMails); free the address first")
    else:
        upn = lower_text(values["userPrincipalName"].astype("object")).reset_index(drop=True)
        domain = upn.str.split("@").str[-1]
        verified = verified_domains(target)
        unverified = (upn.notna() & ~domain.isin(verified)).to_numpy()
        note(ids[unverified], [f"its target UPN {u} is on a domain not verified in the target tenant"
                               for u in upn[unverified]])
        existing = at.lower(at.text(tgt["userPrincipalName"])).drop_null()
        clash = at.mask(pc.is_in(at.from_objects(upn.to_numpy(dtype=object)),
                                 value_set=existing, skip_nulls=True))
        note(ids[clash], [f"its target UPN {u} already exists in the target" for u in upn[clash]])
        dup = (upn.notna() & upn.duplicated(keep=False)).to_numpy()
        note(ids[dup], "its target UPN is the same as another new user's")
    if options.target_licenses:
        usage = values["usageLocation"] if "usageLocation" in values.columns else pd.Series(None, index=values.index)
        none = pd.isna(usage.to_numpy(dtype=object))
        note(ids[none], "has no usageLocation: Graph refuses the --target-license licence without one; set it in "
                        "the source or map a constant")
    for attr, limit in TARGET_LIMITS.items():
        if attr in values.columns:
            lengths = values[attr].astype("string").str.len().fillna(0).to_numpy()
            over = lengths > limit
            note(ids[over], [f"{attr} is {int(n)} characters, Graph allows {limit}" for n in lengths[over]])
    return pd.Series({k: "; ".join(v) for k, v in reasons.items()}, dtype="object")


def address_owners(tgt: pd.DataFrame, target: TenantData, wanted: set[str]) -> dict[str, tuple[str, str, str]]:
    """For the ``wanted`` (lower-case) addresses: address -> (object id, "user" | "contact" | "group", name),
    over the target users' mail, proxyAddresses and otherMails and the contacts and groups its export carries.

    Column-wise: a million target users must not mean a million Python iterations."""
    owners: dict[str, tuple[str, str, str]] = {}
    if not wanted:
        return owners
    for col in ("mail", "proxyAddresses", "otherMails"):
        if col not in tgt.columns:
            continue
        if col == "mail":
            hit = _mail_hits(tgt["mail"], wanted)
        else:
            # Only users that have such addresses are expanded (most have none).
            lists = tgt[col]
            values = lists[lists.notna().to_numpy()].explode().dropna()
            if values.empty:
                continue
            # "SMTP:a@b" -> "a@b" (a mail has no prefix). Non-text values become NaN and never match.
            address = values.astype("object").str.split(":", n=1).str[-1].str.lower()
            hit = address[address.isin(wanted)]
        for row, a in zip(hit.index, hit.to_numpy()):
            owners.setdefault(a, (str(tgt.at[row, "id"]), "user", str(tgt.at[row, "userPrincipalName"])))
    for obj in getattr(target, "directory_objects", None) or ():
        for a in [obj.get("mail"), *(obj.get("proxyAddresses") or [])]:
            if isinstance(a, str) and a:
                key = a.split(":", 1)[-1].lower()
                if key in wanted:
                    owners.setdefault(key, (str(obj.get("id")), str(obj.get("kind", "object")),
                                            str(obj.get("displayName") or obj.get("mail"))))
    return owners
