"""Plan a sync: what would happen to every user, computed column-wise so a million users plan in seconds.

Behaviour mirrors Microsoft Entra cross-tenant synchronization unless stated (graph-facts.md section 3):

* **Who is synced**: internal members of the source (userType Member, not created by invitation) that are in
  scope (direct members of the assigned groups, and passing the scoping filters). Guests are never synced.
* **Matching**, in this precedence: (1) the durable link ccsync writes on every user it creates or adopts,
  ``ccsync:<source tenant id>:<source object id>`` in the target's
  ``onPremisesExtensionAttributes.<link attribute>`` (default extensionAttribute15; Entra's own anchor,
  alternativeSecurityIds, is not writable through Graph); (2) mail, case-insensitive; (3) the source UPN
  against the target's mail or the UPN of an external user (``alias_domain#EXT#@...``). More than one
  candidate at the first level that has any, or one target claimed by several sources, is a **conflict**,
  never a guess. A candidate that is an internal user of the target is a conflict too: Entra cannot take
  over internal users.
* **Attribute flow**: "always" mappings are compared and updated; "once" mappings only on create. A null
  mapped value is not written (Entra does not provision nulls).
* **Deprovisioning**: a linked target user whose source user is deleted, out of scope, or no longer a member
  is soft-deleted (Entra's behaviour) or, with ``on_deprovision="disable"``, disabled. A source user that is
  disabled makes the target user disabled. Target users that ccsync did not create or adopt are never touched.
* **Accidental deletions**: deletes and disables together above ``deletion_threshold`` (default 500, Entra's
  default) are **held** unless ``allow_deletes`` covers them.
* **Licences**: for a cross-cloud pair, creates and updates of users that are not eligible
  (toolkit.licensing) are **blocked** with the reason.

``plan_sync`` runs the phases, each in its own module: ``scoping`` (who is in scope), ``tables`` (the users as
Arrow columns), ``match``, ``gate`` (licences), ``updates``, ``creates``, ``deprovision`` and ``threshold``
(held deletes, the plan's order); ``decisions`` puts their operations and changes into the plan's frames.
docs/planner-performance.md says where the time goes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..clouds import check_pair
from ..frames import CHANGES_COLUMNS, KINDS, OPS_COLUMNS, TenantData
from . import arrowtext as at
from .checks import check_empty_scope, check_expected, check_inputs, group_refusal
from .columns import LINK_PREFIX, link_value, tenant_header
from .creates import plan_creates
from .decisions import changes_frame, ops_frame
from .deprovision import plan_deprovisioning
from .gate import gate_by_licence
from .mapped import MappedValues
from .match import looks_entra_synced, match_users, plan_match_conflicts
from .options import PlanOptions
from .planfile import SyncPlan
from .rules import Mapping, Scope, default_mapping
from .scoping import scope_masks, scope_user_ids
from .tables import SourceUsers, TargetUsers
from .threshold import finish
from .updates import plan_updates

# The planner's public names, importable from here as they always were (the CLI, interop, benches and tests).
__all__ = ["PlanOptions", "plan_sync", "scope_masks", "scope_user_ids", "OPS_COLUMNS", "CHANGES_COLUMNS",
           "link_value", "KINDS", "group_refusal", "looks_entra_synced"]


def plan_sync(source: TenantData, target: TenantData, *, mapping: Mapping | None = None,
              scope: Scope | None = None, options: PlanOptions | None = None, catalog: Any = None,
              eligibility: pd.DataFrame | None = None, expect_source: str | None = None,
              expect_target: str | None = None) -> SyncPlan:
    """Plan the sync of ``source`` into ``target``. Pure: reads frames, writes nothing.

    ``expect_source`` / ``expect_target`` (a tenant id or verified domain) refuse a snapshot of the wrong tenant.
    The phases, in order: scope, match, licence gate, updates, creates, deprovisioning, threshold.
    """
    check_expected(source, expect_source, "source tenant")
    check_expected(target, expect_target, "target tenant")
    mapping = mapping or default_mapping()
    scope = scope or Scope()
    options = options or PlanOptions()
    pair = check_pair(source.cloud, target.cloud)
    check_inputs(source, target, mapping, options, pair.kind)

    users = source.users.reset_index(drop=True)
    in_scope, syncable = scope_masks(source, scope)
    src = SourceUsers.of(users[(in_scope & syncable).to_numpy()])
    tgt = TargetUsers.of(target.users, options.link_attribute, source.tenant_id)
    check_empty_scope(src.frame, tgt.linked, source, scope, options)

    link_prefix = f"{LINK_PREFIX}:{source.tenant_id}:"
    link_column = f"onPremisesExtensionAttributes.{options.link_attribute}"
    matches = match_users(src, tgt, options)
    decided = plan_match_conflicts(src, matches)
    gate = gate_by_licence(source, target.cloud, src, pair.kind, options, eligibility, catalog)
    values = MappedValues(mapping, src)
    decided.extend(plan_updates(src, tgt, matches, values, gate, mapping, options, link_column, link_prefix))
    decided.extend(plan_creates(src, tgt, target, source, matches, values, gate, mapping, options, link_column,
                                link_prefix))
    decided.extend(plan_deprovisioning(matches, at.text(users["id"]), at.text(users["userPrincipalName"]), tgt,
                                       options))
    changes = changes_frame(decided)
    ops = finish(ops_frame(decided), changes, options)
    from .. import __version__
    header = {
        "format": "ccsync-plan/1",
        "toolkitVersion": __version__,
        "asOf": max(filter(None, [source.exported_at, target.exported_at]), default=""),
        "source": tenant_header(source, int(in_scope.sum()), int((in_scope & syncable).sum())),
        "target": tenant_header(target),
        "pair": pair.to_dict(),
        "options": options.to_dict(),
        "mapping": {"source": mapping.source, "sha256": mapping.digest, "rules": mapping.to_dict()},
        "scope": {"source": scope.source, "sha256": scope.digest, **scope.describe()},
    }
    return SyncPlan(header=header, ops=ops, changes=changes, adopted=frozenset(decided.adopted))

