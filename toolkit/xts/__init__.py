"""Entra's own cross-tenant / cross-cloud synchronization, configured and run through Graph (``ccsync xts``).

Modules, one phase each: ``steps`` (the documented steps and portal-only steps, as data), ``calls`` (a tenant's
side and the record of its calls), ``policy`` (cross-tenant access settings), ``app`` (the configuration and
its scope), ``job`` (job, secrets, start/pause/restart, on-demand provisioning), ``status`` (diagnosis),
``permissions`` (what each command needs), ``enable`` (the idempotent setup), ``control`` (finding a job and
the commands that act on it, and ``disable``). Facts and sources: docs/xts.md.
"""

from .calls import CALL_COLUMNS, Call, TenantSide, calls_frame, mask_body
from .enable import EnableOptions, EnablePlan, EnableResult, execute_enable, plan_enable
from .status import Diagnosis, JobStatus, diagnose, job_status, status_frame
from .steps import STEPS, TEMPLATE_ID, manual_steps

__all__ = ["CALL_COLUMNS", "Call", "TenantSide", "calls_frame", "mask_body", "EnableOptions", "EnablePlan",
           "EnableResult", "execute_enable", "plan_enable", "Diagnosis", "JobStatus", "diagnose", "job_status",
           "status_frame", "STEPS", "TEMPLATE_ID", "manual_steps"]
