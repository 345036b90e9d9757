"""Acting on an existing sync: find its configuration and job, read its status, start/pause/restart it,
provision users on demand, and remove it (``disable``, the reverse of ``enable``).

``disable`` removes, in reverse order of ``enable``: the job (DELETE stops it and drops its state), the
configuration's service principal and application, then the target's inbound-sync setting
(identitySynchronization). With ``policies=True`` also the partner entries both sides and the cloud setting
when no partner is left. Users already synchronized stay in the target, as Entra leaves them (overview FAQ
"Deprovisioning").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from toolkit.clouds import get_cloud
from toolkit.errors import CcsyncError, GraphBadRequest, GraphNotFound, InputError, SyncSetupIncomplete

from .app import assignments_frame, find_configuration, find_configurations, read_assignments
from .calls import Call, TenantSide, calls_frame
from .job import (SYNC_PERMISSION, control_call, find_jobs, job_path, provision_on_demand, restart_call)
from .policy import POLICY_PERMISSION, read_cloud_endpoints
from .status import JobStatus, job_status
from .steps import CTAP_PATH

__all__ = ["job_warnings", "SyncTarget", "locate", "locate_one", "assignments", "read_status", "act", "provision",
           "DisablePlan", "plan_disable",
           "execute_disable"]


@dataclass
class SyncTarget:
    """A configuration (service principal) and its Azure2Azure job."""

    service_principal: dict[str, Any]
    job: dict[str, Any]

    @property
    def sp_id(self) -> str:
        return self.service_principal["id"]

    @property
    def job_id(self) -> str:
        return self.job["id"]


def locate(side: TenantSide, *, job_id: str | None = None, name: str | None = None) -> list[SyncTarget]:
    """The source tenant's cross-tenant sync jobs, narrowed by configuration name and/or job id."""
    if name:
        sp = find_configuration(side, name)
        sps = [sp] if sp else []
    else:
        sps = find_configurations(side)
    out = []
    for sp in sps:
        for job in find_jobs(side, sp["id"]):
            if job_id is None or job.get("id") == job_id:
                out.append(SyncTarget(sp, job))
    if not out:
        what = f"job {job_id}" if job_id else f"configuration '{name}'" if name else "cross-tenant sync job"
        raise InputError(f"no {what} found in the source tenant {side.tenant_id} ({side.cloud}).",
                         hint="Set it up with 'ccsync xts enable', or check --name / --job (ccsync xts status "
                              "lists the jobs).")
    return out


def locate_one(side: TenantSide, *, job_id: str | None = None, name: str | None = None) -> SyncTarget:
    found = locate(side, job_id=job_id, name=name)
    if len(found) > 1:
        listed = "; ".join(f"'{t.service_principal.get('displayName')}' job {t.job_id}" for t in found)
        raise InputError(f"{len(found)} sync jobs in the source tenant: {listed}.",
                         hint="Choose one with --job ID or --name NAME.")
    return found[0]


def read_status(side: TenantSide, *, job_id: str | None = None, name: str | None = None) -> list[JobStatus]:
    """Status and diagnosis of each matching job (re-read, so the status is current)."""
    out = []
    for t in locate(side, job_id=job_id, name=name):
        job = side.read(job_path(t.sp_id, t.job_id), step="source.status", permission="Synchronization.Read.All")
        out.append(job_status(job, service_principal_id=t.sp_id, configuration=t.service_principal.get("displayName")))
    return out


def assignments(side: TenantSide, target: SyncTarget) -> Any:
    """The configuration's scope (assigned users and groups) as a DataFrame."""
    return assignments_frame(read_assignments(side, target.sp_id))


def act(side: TenantSide, action: str, *, job_id: str | None = None, name: str | None = None,
        force_deletes: bool = False, full: bool = False, what_if: bool = False) -> tuple[Call, SyncTarget]:
    """start, pause or restart the job; returns the call (sent unless ``what_if``)."""
    target = locate_one(side, job_id=job_id, name=name)
    if action == "restart":
        call = restart_call(side, target.sp_id, target.job_id, force_deletes=force_deletes, full=full)
    elif action in ("start", "pause"):
        call = control_call(side, target.sp_id, target.job_id, action)
    else:
        raise InputError(f"unknown job action '{action}'", hint="Use start, pause or restart.")
    if not what_if:
        side.send(call)
    return call, target


def provision(side: TenantSide, users: list[str], *, job_id: str | None = None, name: str | None = None,
              on_warning: Callable[[str], None] | None = None) -> Any:
    """Provision users on demand (paced at 5 per 10 s by the Graph client's pacer); ProvisionResult list.
    ``on_warning`` hears what is wrong with the job first (e.g. a quarantine), with its fix."""
    target = locate_one(side, job_id=job_id, name=name)
    for warning in job_warnings(target) if on_warning else []:
        on_warning(warning)
    return provision_on_demand(side, target.sp_id, target.job_id, users)


def job_warnings(target: SyncTarget) -> list[str]:
    """What is wrong with a located job (quarantine, failing cycles), with the fix: said before acting on it."""
    return [f"job {target.job_id}: {d.message} Fix: {d.fix}" for d in job_status(target.job).diagnoses
            if d.severity == "error"]


# Partner settings that enable never writes: an entry holding any of them was made for more than sync.
_NOT_SYNC_SETTINGS = ("inboundTrust", "b2bCollaborationInbound", "b2bCollaborationOutbound", "b2bDirectConnectInbound",
                      "b2bDirectConnectOutbound", "tenantRestrictions", "isServiceProvider")


@dataclass
class DisablePlan:
    source: TenantSide
    target: TenantSide
    calls: list[Call]
    kept: list[str] = field(default_factory=list)

    def side(self, role: str) -> TenantSide:
        return self.source if role == "source" else self.target

    def calls_frame(self) -> Any:
        return calls_frame([(c, self.side(c.tenant)) for c in self.calls])

    def to_dict(self) -> dict[str, Any]:
        return {"calls": [c.to_dict(self.side(c.tenant)) for c in self.calls], "kept": self.kept}


def plan_disable(source: TenantSide, target: TenantSide, name: str | None, *, policies: bool = False) -> DisablePlan:
    """The deletes that undo ``enable`` (reverse order); reads only. ``name`` None: the configuration
    ``enable`` would use for this target (app.resolve_configuration)."""
    from .app import resolve_configuration

    calls: list[Call] = []
    kept = ["users already synchronized into the target (Entra leaves them)"]
    sp, name = resolve_configuration(source, target.tenant_id, target.display_name, name)
    if sp is not None:
        for job in find_jobs(source, sp["id"], step="source.job"):
            calls.append(Call("source", "source.job", "DELETE", job_path(sp["id"], job["id"]), None,
                              f"delete the job {job['id']} (stops it)", permission=SYNC_PERMISSION))
        calls.append(Call("source", "source.configuration", "DELETE", f"/servicePrincipals/{sp['id']}", None,
                          f"delete the configuration '{name}' (service principal; its assignments go with it)",
                          permission="Application.ReadWrite.All"))
        if sp.get("appId"):
            # application-delete.md: the application can be addressed by its appId (alternate key).
            calls.append(Call("source", "source.application", "DELETE", f"/applications(appId='{sp['appId']}')",
                              None, f"delete the configuration's application registration {sp['appId']}",
                              permission="Application.ReadWrite.All"))
    if True:  # the target's side
        partners = {"source": target.tenant_id, "target": source.tenant_id}
        if policies:
            path = f"{CTAP_PATH}/partners/{source.tenant_id}/identitySynchronization"
            if target.read_or_none(path, step="target.inboundSync", permission=POLICY_PERMISSION) is not None:
                calls.append(Call("target", "target.inboundSync", "DELETE", path, None,
                                  "stop allowing user synchronization into this tenant", permission=POLICY_PERMISSION))
            for side in (source, target):
                other = partners[side.role]
                partner = side.read_or_none(f"{CTAP_PATH}/partners/{other}", step=f"{side.role}.partner",
                                            permission=POLICY_PERMISSION)
                others_settings = sorted(k for k in _NOT_SYNC_SETTINGS if (partner or {}).get(k) is not None)
                if partner is not None and others_settings:
                    # Not made by enable (enable sets only automatic redemption and inbound sync): kept.
                    kept.append(f"{side.role}: the partner entry for {other}, which also holds "
                                f"{', '.join(others_settings)} (B2B settings enable does not make)")
                elif partner is not None:
                    calls.append(Call(side.role, f"{side.role}.partner", "DELETE", f"{CTAP_PATH}/partners/{other}",
                                      None, f"delete the partner entry for tenant {other}",
                                      permission=POLICY_PERMISSION))
                removing = partner is not None and not others_settings
                remaining = [p for p in side.read_all(f"{CTAP_PATH}/partners", step=f"{side.role}.partner",
                                                      permission=POLICY_PERMISSION)
                             if not (removing and p.get("tenantId") == other)]
                endpoint = get_cloud((target if side is source else source).cloud).allowed_cloud_endpoint
                current = read_cloud_endpoints(side, f"{side.role}.cloudSettings")
                if endpoint in current and get_cloud(side.cloud).allowed_cloud_endpoint != endpoint:
                    if remaining:
                        kept.append(f"{side.role}: Microsoft cloud setting {endpoint} (partners remain)")
                    else:
                        calls.append(Call(side.role, f"{side.role}.cloudSettings", "PATCH", CTAP_PATH,
                                          {"allowedCloudEndpoints": [e for e in current if e != endpoint]},
                                          f"stop allowing the {endpoint} cloud", permission=POLICY_PERMISSION))
        else:
            path = f"{CTAP_PATH}/partners/{source.tenant_id}/identitySynchronization"
            if target.read_or_none(path, step="target.inboundSync", permission=POLICY_PERMISSION) is not None:
                calls.append(Call("target", "target.inboundSync", "DELETE", path, None,
                                  "stop allowing user synchronization into this tenant", permission=POLICY_PERMISSION))
            kept.append("partner entries, automatic redemption and Microsoft cloud settings in both tenants "
                        "(other B2B collaboration may rely on them; --policies removes them)")
    # Reverse order: the source's configuration first, then policies, the target's last (as enable began there).
    order = {"source.job": 0, "source.configuration": 1, "source.application": 2, "source.partner": 3,
             "source.cloudSettings": 4, "target.inboundSync": 5, "target.partner": 6, "target.cloudSettings": 7}
    calls.sort(key=lambda c: order.get(c.step, 9))
    return DisablePlan(source, target, calls, kept)


def execute_disable(plan: DisablePlan) -> list[Call]:
    """Send the deletes; a 404 means already gone. Stops with what was done and what is left."""
    sent: list[Call] = []
    for index, call in enumerate(plan.calls):
        side = plan.side(call.tenant)
        try:
            side.send(call)
            sent.append(call)
        except GraphNotFound:
            call.state = "gone"
        except GraphBadRequest as err:
            if call.step != "source.application":
                raise
            # Deleting the service principal already removed what sync uses; an application registration Graph
            # would not delete by appId is left for the admin (reported), not treated as a failure.
            call.state = "left"
            plan.kept.append(f"source: the application registration {call.path} ({err.code}); delete it in "
                             "App registrations if it is still there")
        except CcsyncError as err:
            raise SyncSetupIncomplete(
                f"disable stopped at '{call.purpose}': {err.message}", hint=err.hint,
                done=[f"{c.tenant}: {c.purpose}" for c in sent],
                remaining=[f"{c.tenant}: {c.purpose}" for c in plan.calls[index:]],
                details={"cause": err.to_dict()}) from err
    return sent
