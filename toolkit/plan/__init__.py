"""Sync plans: mapping and scoping rules, the planner, the plan file, and an in-memory apply for previews."""

from .planfile import SyncPlan, load_plan
from .planner import KINDS, PlanOptions, link_value, plan_sync, scope_masks, scope_user_ids
from .rules import Mapping, Scope, default_mapping, load_mapping, load_scope, parse_mapping, parse_scope
from .simulate import apply_plan_in_memory

__all__ = ["SyncPlan", "load_plan", "PlanOptions", "plan_sync", "scope_masks", "scope_user_ids", "link_value", "KINDS", "Mapping",
           "Scope", "default_mapping", "load_mapping", "load_scope", "parse_mapping", "parse_scope",
           "apply_plan_in_memory"]
