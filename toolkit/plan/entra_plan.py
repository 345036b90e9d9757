"""An entra-engine plan: the sync job's next cycle, predicted after the planned scope changes, with the header
``ccsync apply`` checks before it touches the job (the scope changes, the job as it was read, the scope file's
digest). ``ccsync plan --job`` and the demo both make their plans here, so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..frames import TenantData
from .entra_job import JobSnapshot
from .entra_predict import EntraPrediction, predict_cycle
from .entra_scope import plan_scope_changes
from .planfile import SyncPlan
from .rules import Scope

__all__ = ["EntraPlan", "plan_entra"]


@dataclass
class EntraPlan:
    plan: SyncPlan                       # the plan file's content: one predicted outcome per user
    prediction: EntraPrediction          # with the translated schema (its problems, the portal's mapping sheet)
    scope_changes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what the scope change could not do, for the admin


def plan_entra(snap: JobSnapshot, source: TenantData, target: TenantData, scope: Scope | None = None, *,
               catalog: Any = None) -> EntraPlan:
    """Predict ``snap``'s next cycle from ``source`` to ``target``; with ``scope``, after the changes to the job's
    assigned groups and their direct members that reach it. ``source`` must hold the members of the job's
    assigned groups and of the scope's groups."""
    if scope is not None:
        sc = plan_scope_changes(source, snap.job, scope)
        source_after, job_after, changes, notes = sc.source_after, sc.job_after, sc.to_list(), list(sc.notes)
    else:
        source_after, job_after, changes, notes = source, snap.job, [], []
    pred = predict_cycle(snap.schema, source_after, target, job_after, catalog=catalog)
    plan = pred.plan
    plan.header["scopeChanges"] = changes
    plan.header["jobBefore"] = snap.job.to_dict()       # what apply checks for staleness
    if scope is not None:
        plan.header["scope"] = {"source": scope.source, "sha256": scope.digest, **scope.describe()}
    return EntraPlan(plan=plan, prediction=pred, scope_changes=changes, notes=notes)
