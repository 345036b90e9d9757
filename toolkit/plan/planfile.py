"""The plan file: human-readable, diffable JSON, bound to both tenants, with an integrity hash.

Layout (``format: ccsync-plan/1``): the header (source and target tenant ids, clouds, export times, the pair,
options, the mapping and scope with their SHA-256, the toolkit version, ``asOf`` = the later export time),
``counts``, ``operations`` (sorted: kind, then UPNs; each with its stable ``opId``, the source and target user,
how they were matched, the reason, ``held`` and the attribute ``changes`` old -> new), and ``integrity``: the
SHA-256 of the canonical JSON of everything else. The same inputs give a byte-identical file: there is no
wall-clock time in it, ``asOf`` comes from the snapshots.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..frames import CHANGES_COLUMNS, KINDS, OPS_COLUMNS

__all__ = ["SyncPlan", "load_plan", "canonical_digest"]

# Per-operation fields of an entra-engine plan (toolkit.plan.entra_predict), kept when present.
_EXTRA_OP_FIELDS = ("cannotPredict", "licence")
ENTRA_KINDS = ("skip", "fail", "unknown")


def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (list, dict)):
        return v
    if pd.isna(v):
        return None
    if hasattr(v, "item"):          # numpy scalars
        return v.item()
    return v


_UNHASHED = ("integrity", "signature")


def canonical_digest(document: dict) -> str:
    """SHA-256 of the canonical JSON of everything but the integrity block and the signature."""
    body = {k: v for k, v in document.items() if k not in _UNHASHED}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class SyncPlan:
    header: dict
    ops: pd.DataFrame          # OPS_COLUMNS
    changes: pd.DataFrame      # CHANGES_COLUMNS
    signature: dict | None = None    # as loaded from a file (toolkit.plan.signing)
    digest: str | None = None        # the loaded file's verified integrity digest
    # Operations that take over a target user ccsync did not create ("adopt": true in the file). The planner
    # decides it (only with --adopt: PlanOptions.adopt, the header's options.adopt); a loaded plan says so itself
    # (absent means false). Nothing else infers it: the write-time guard (toolkit/apply/guard.py) reads this set.
    adopted: frozenset[str] = frozenset()

    def adopted_ops(self) -> frozenset[str]:
        """Ids of the operations this plan marks ``adopt`` (see ``adopted``)."""
        return frozenset(self.adopted)

    # --- views ---------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        by_kind = self.ops["kind"].value_counts() if len(self.ops) else pd.Series(dtype="int64")
        # An entra-engine plan has its own kinds (skip, fail, unknown): counted beside the direct engine's.
        kinds = KINDS + ENTRA_KINDS if self.header.get("engine") == "entra" else KINDS
        out = {k: int(by_kind.get(k, 0)) for k in kinds}
        out["held"] = int(self.ops["held"].sum()) if len(self.ops) else 0
        out["total"] = int(len(self.ops))
        return out

    @property
    def actionable(self) -> pd.DataFrame:
        """Operations apply would carry out (not conflicts, not blocked, not held)."""
        return self.ops[self.ops["kind"].isin(["create", "update", "disable", "delete"]) & ~self.ops["held"]]

    def to_frame(self) -> pd.DataFrame:
        """One row per operation, with the changes summarised as 'attr: old -> new; ...'."""
        ops = self.ops.copy()
        if len(self.changes):
            ch = self.changes
            text = (ch["attribute"].astype(str) + ": " + ch["oldValue"].astype("string").fillna("(none)")
                    + " -> " + ch["newValue"].astype("string").fillna("(none)"))
            summary = text.groupby(ch["opId"]).agg("; ".join)
            ops["changes"] = ops["opId"].map(summary)
        else:
            ops["changes"] = None
        return ops

    def summary(self) -> dict[str, Any]:
        return {"source": self.header["source"], "target": self.header["target"],
                "pair": self.header["pair"], "asOf": self.header.get("asOf"), "counts": self.counts(),
                "deletionThreshold": self.header["options"]["deletionThreshold"]}

    # --- serialisation ---------------------------------------------------------------------------------
    def to_document(self) -> dict:
        changes_by_op: dict[str, list] = {}
        if len(self.changes):
            ch = self.changes.sort_values(["opId", "attribute"], kind="mergesort")
            for op_id, attr, old, new, flow in zip(ch["opId"], ch["attribute"], ch["oldValue"], ch["newValue"],
                                                   ch["flow"]):
                changes_by_op.setdefault(op_id, []).append(
                    {"attribute": attr, "old": _clean(old), "new": _clean(new), "flow": flow})
        operations = []
        adopted = self.adopted_ops()
        for row in self.ops.itertuples(index=False):
            operations.append({
                "opId": row.opId, "kind": row.kind, "held": bool(row.held),
                "source": {"id": _clean(row.sourceId), "userPrincipalName": _clean(row.sourceUpn),
                           "mail": _clean(row.sourceMail)},
                "target": {"id": _clean(row.targetId), "userPrincipalName": _clean(row.targetUpn)},
                "matchedBy": _clean(row.matchedBy), "reason": _clean(row.reason),
                "changes": changes_by_op.get(row.opId, []),
                **({"adopt": True} if row.opId in adopted else {}),
            })
            for extra in _EXTRA_OP_FIELDS:          # entra engine: present only when the plan has them
                if extra in self.ops.columns:
                    operations[-1][extra] = _clean(getattr(row, extra))
        document = dict(self.header)
        document["counts"] = self.counts()
        document["operations"] = operations
        document["integrity"] = {"algorithm": "sha256", "digest": canonical_digest(document)}
        return document

    def dumps(self, *, sign: bool = False) -> str:
        """The plan file's text; ``sign`` adds the HMAC signature with this user's key (toolkit.plan.signing)."""
        document = self.to_document()
        if sign:
            from .signing import signature_for, signing_key

            document["signature"] = signature_for(document["integrity"]["digest"], signing_key(create=True))
        return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, path: str | Path, *, sign: bool = True) -> Path:
        """Write atomically and privately (0600: a plan names users) through ``toolkit.writefile``, signed
        with this user's plan-signing key unless ``sign`` is False."""
        from ..writefile import write_text

        return write_text(path, self.dumps(sign=sign))

    def check_signature(self, source: str = "<plan>", *, trust_unsigned: bool = False) -> Any:
        """Check the loaded plan's signature against this user's key (``toolkit.plan.signing.check_signature``)."""
        from .signing import check_signature

        digest = self.digest or canonical_digest(self.to_document())
        return check_signature(self.signature, digest, source, trust_unsigned=trust_unsigned)

    @classmethod
    def from_document(cls, document: Any, source: str = "<plan>") -> "SyncPlan":
        """A plan from its JSON document: schema first (toolkit.plan.schema), then the integrity hash."""
        from .schema import validate_plan_document

        validate_plan_document(document, source)
        integrity = document.get("integrity") or {}
        if not isinstance(integrity, dict) or integrity.get("digest") != canonical_digest(document):
            raise InputError("the plan's integrity hash does not match its content: it was changed after "
                             "ccsync wrote it", source=source,
                             hint="Do not edit plan files; make a new plan with 'ccsync plan'.")
        ops_rows, change_rows = [], []
        for op in document.get("operations", []):
            ops_rows.append({"opId": op["opId"], "kind": op["kind"], "held": op["held"],
                             "sourceId": op["source"]["id"], "sourceUpn": op["source"]["userPrincipalName"],
                             "sourceMail": op["source"]["mail"], "targetId": op["target"]["id"],
                             "targetUpn": op["target"]["userPrincipalName"], "matchedBy": op["matchedBy"],
                             "reason": op["reason"], "changeCount": len(op["changes"]),
                             **{k: op[k] for k in _EXTRA_OP_FIELDS if k in op}})
            for c in op["changes"]:
                change_rows.append({"opId": op["opId"], "attribute": c["attribute"], "oldValue": c["old"],
                                    "newValue": c["new"], "flow": c["flow"]})
        header = {k: v for k, v in document.items() if k not in ("counts", "operations", "integrity", "signature")}
        extras = [k for k in _EXTRA_OP_FIELDS if any(k in r for r in ops_rows)]
        ops = pd.DataFrame(ops_rows, columns=OPS_COLUMNS + extras)
        ops["held"] = ops["held"].astype(bool)
        signature = document.get("signature")
        adopted = frozenset(op["opId"] for op in document.get("operations", []) if op.get("adopt") is True)
        return cls(header=header, ops=ops, changes=pd.DataFrame(change_rows, columns=CHANGES_COLUMNS),
                   signature=signature if isinstance(signature, dict) else None, digest=integrity["digest"],
                   adopted=adopted)


def load_plan(path: str | Path) -> SyncPlan:
    """Read a plan file as untrusted input: decoding and JSON (toolkit.textfile), schema, integrity hash. The
    signature is checked separately (``SyncPlan.check_signature``), since only the admin can say to trust it."""
    from ..textfile import parse_json, read_text_file

    p = Path(path)
    document = parse_json(read_text_file(p, what="plan"), str(p), what="plan")
    return SyncPlan.from_document(document, str(p))
