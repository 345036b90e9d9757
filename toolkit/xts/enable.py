"""Set up Entra cross-tenant / cross-cloud sync in both tenants, idempotently: plan (reads only), then execute.

``plan_enable`` reads every setting involved, in both tenants, and returns the writes still needed in the
documented order (steps.STEPS), the portal-only steps for the cloud pair, and the settings someone configured
differently (``Difference``: refused unless ``force``). A plan with no writes means the setup is complete: a
second ``enable`` with the same inputs sends no write. ``execute_enable`` sends the writes, learning the ids it
needs on the way (service principal, app role, job), handles the documented 409s (object exists: PATCH), runs the
test connection that verifies the portal-only steps, and stops with exactly what was done and what is left.
``EnableOptions.steps`` (``--step``) narrows a plan to named steps (``select_steps``): a step whose needed step
(steps.Step.needs) still has work to do and is not named is refused before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Union

from toolkit import defaults
from toolkit.clouds import CloudPair, check_pair, get_cloud
from toolkit.errors import (CcsyncError, ConfigurationConflict, GraphConflict, GraphError, InputError,
                            SyncSetupIncomplete)

from .app import (find_configuration, msiam_role_id, plan_adopt, plan_assignments, plan_instantiate,
                  read_assignments, resolve_configuration, resolve_groups)
from .calls import Call, TenantSide, calls_frame
from .job import find_jobs, plan_create_job, plan_secrets, plan_validate, read_secrets, secrets_body
from .permissions import check_permissions
from .policy import (POLICY_PERMISSION, Difference, plan_cloud_endpoint, plan_inbound_sync, plan_partner,
                     plan_redemption, read_partner)
from .status import CODE_FIXES, normalize_code, job_status
from .steps import (CTAP_PATH, MICROSOFT_GRAPH_APP_ID, SELECTABLE_STEPS, STEP_BY_KEY, STEPS,
                    USER_READWRITE_CROSSCLOUD_ID, ManualStep, manual_steps)

__all__ = ["EnableOptions", "EnablePlan", "EnableResult", "ManualStatus", "plan_enable", "execute_enable",
           "check_sides", "verify_target_sync_principal", "select_steps"]

Action = Union[Call, ManualStep]


@dataclass
class EnableOptions:
    groups: list[str] = field(default_factory=list)
    name: str | None = None
    deletion_threshold: int = defaults.DELETION_THRESHOLD
    notify_email: str | None = None
    force: bool = False
    steps: list[str] | None = None   # run only these steps (steps.SELECTABLE_STEPS keys); None: every step


@dataclass
class ManualStatus:
    """A portal-only step and what ccsync could verify about it (never 'done' without evidence)."""

    step: ManualStep
    status: str = "not verified"     # not verified, verified, not done
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.step.to_dict(), "status": self.status, "evidence": self.evidence}


@dataclass
class EnablePlan:
    source: TenantSide
    target: TenantSide
    pair: CloudPair
    name: str
    actions: list[Action]
    differences: list[Difference]
    ids: dict[str, str]
    manual: list[ManualStatus]
    notes: list[str] = field(default_factory=list)
    job: dict[str, Any] | None = None
    selected: list[str] | None = None     # the steps --step named, in the documented order; None: all

    @property
    def writes(self) -> list[Call]:
        return [a for a in self.actions if isinstance(a, Call) and a.write]

    @property
    def calls(self) -> list[Call]:
        return [a for a in self.actions if isinstance(a, Call)]

    def side(self, role: str) -> TenantSide:
        return self.source if role == "source" else self.target

    def calls_frame(self) -> Any:
        """The what-if call list as a DataFrame (calls.CALL_COLUMNS)."""
        return calls_frame([(c, self.side(c.tenant)) for c in self.calls])

    def to_dict(self) -> dict[str, Any]:
        return {"source": _side_dict(self.source), "target": _side_dict(self.target), "pair": self.pair.to_dict(),
                "configuration": self.name, "calls": [c.to_dict(self.side(c.tenant)) for c in self.calls],
                "reads": [c.to_dict(side) for side in (self.target, self.source) for c in side.calls
                          if c.state == "read" or (not c.write and c.method == "GET")],
                "writes": len(self.writes), "manualSteps": [m.to_dict() for m in self.manual],
                "differences": [d.to_dict() for d in self.differences], "notes": self.notes,
                "steps": self.steps(), "selectedSteps": self.selected}

    def steps(self) -> list[dict[str, Any]]:
        """Every documented step for this cloud pair, in order, with ``pending`` (calls to make) and ``calls``."""
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.step] = counts.get(call.step, 0) + 1
        cross = self.pair.kind == "cross-cloud"
        return [{**s.to_dict(), "pending": counts.get(s.key, 0) > 0, "calls": counts.get(s.key, 0)}
                for s in STEPS if cross or not s.cross_cloud_only]


def _side_dict(side: TenantSide) -> dict[str, Any]:
    return {"profile": side.name, "tenantId": side.tenant_id, "cloud": side.cloud, "displayName": side.display_name}


@dataclass
class EnableResult:
    plan: EnablePlan
    sent: list[Call]
    ids: dict[str, str]

    @property
    def changed(self) -> bool:
        return bool(self.sent)

    def message(self) -> str:
        only = self.plan.selected
        if not self.sent:
            if only is not None:
                return f"Nothing changed: the step(s) {', '.join(only)} are already as asked (no write sent)."
            return "Nothing changed: the sync is already set up as asked (no write sent)."
        if only is not None:
            return f"Sent {len(self.sent)} write(s) for the step(s) {', '.join(only)}; other steps were not run."
        return f"Sent {len(self.sent)} write(s); the sync is set up and started."

    def to_dict(self) -> dict[str, Any]:
        out = self.plan.to_dict()
        out.update({"sent": [c.to_dict(self.plan.side(c.tenant)) for c in self.sent], "changed": self.changed,
                    "servicePrincipalId": self.ids.get("servicePrincipalId"), "jobId": self.ids.get("jobId"),
                    "message": self.message()})
        return out


def check_sides(command: str, source: TenantSide, target: TenantSide | None) -> CloudPair | None:
    """Before any Graph call: a supported cloud pair, two different tenants, and the permissions in each token."""
    pair = check_pair(source.cloud, target.cloud) if target is not None else None
    check_permissions(command, source)
    if target is not None:
        check_permissions(command, target)
    return pair


def verify_target_sync_principal(target: TenantSide) -> tuple[str, str]:
    """Look, read-only, for the target's cross-cloud sync service principal (holder of User.ReadWrite.CrossCloud).

    Microsoft does not name that service principal; its permission is what ticking the portal checkbox gives it
    (graph-facts 1.4). Returns (status, evidence); "not verified" when Graph cannot show it to this app.
    """
    step = "target.crossCloudSyncCheckbox"
    try:
        graph = target.read_all("/servicePrincipals", step=step, permission="Application.Read.All",
                                params={"$filter": f"appId eq '{MICROSOFT_GRAPH_APP_ID}'", "$select": "id"})
        if not graph:
            return "not verified", "Microsoft Graph's service principal is not visible in the target"
        assigned = target.read_all(f"/servicePrincipals/{graph[0]['id']}/appRoleAssignedTo", step=step,
                                   permission="Application.Read.All")
    except CcsyncError as err:
        return "not verified", f"Graph could not show it ({err.message[:120]})"
    holders = [a for a in assigned if a.get("appRoleId") == USER_READWRITE_CROSSCLOUD_ID]
    if holders:
        return "verified", (f"service principal '{holders[0].get('principalDisplayName')}' holds "
                            f"User.ReadWrite.CrossCloud in the target")
    return "not verified", "no service principal holds User.ReadWrite.CrossCloud in the target yet"


def plan_enable(source: TenantSide, target: TenantSide, options: EnableOptions,
                pair: CloudPair | None = None) -> EnablePlan:
    """Read both tenants and plan the writes still needed (nothing is written)."""
    pair = pair or check_pair(source.cloud, target.cloud)
    if source.tenant_id.lower() == target.tenant_id.lower():
        raise InputError(f"--source and --target name the same tenant ({source.tenant_id}).",
                         hint="Give the profile of the tenant users are copied FROM as --source and the one "
                              "they are copied INTO as --target.")
    cross = pair.kind == "cross-cloud"
    sp, name = resolve_configuration(source, target.tenant_id, target.display_name, options.name)
    s_cloud, t_cloud = get_cloud(source.cloud), get_cloud(target.cloud)
    actions: list[Action] = []
    diffs: list[Difference] = []
    notes: list[str] = []
    manual = {m.key: ManualStatus(m) for m in manual_steps(s_cloud, t_cloud, source_tenant=source.tenant_id,
                                                           configuration=name)}

    # --- target tenant ---------------------------------------------------------------------------------
    if cross:
        actions += plan_cloud_endpoint(target, s_cloud.allowed_cloud_endpoint, "target.cloudSettings")
        status, evidence = verify_target_sync_principal(target)
        manual["target.crossCloudSyncCheckbox"].status, manual["target.crossCloudSyncCheckbox"].evidence = \
            status, evidence
        actions.append(manual["target.crossCloudSyncCheckbox"].step)
    partner = read_partner(target, source.tenant_id, "target.partner")
    actions += plan_partner(target, partner, source.tenant_id, "target.partner")
    calls, d = plan_inbound_sync(target, partner is not None, source.tenant_id, name, "target.inboundSync")
    actions += calls
    diffs += d
    calls, d = plan_redemption(target, partner, source.tenant_id, "inbound", "target.inboundRedemption")
    actions += calls
    diffs += d

    # --- source tenant ---------------------------------------------------------------------------------
    if cross:
        actions += plan_cloud_endpoint(source, t_cloud.allowed_cloud_endpoint, "source.cloudSettings")
    partner = read_partner(source, target.tenant_id, "source.partner")
    actions += plan_partner(source, partner, target.tenant_id, "source.partner")
    calls, d = plan_redemption(source, partner, target.tenant_id, "outbound", "source.outboundRedemption")
    actions += calls
    diffs += d

    ids: dict[str, str] = {}
    job: dict[str, Any] | None = None
    if sp is None and cross:
        # Graph has no call for the configuration's cross-cloud checkbox: the admin creates it in the portal
        # and ccsync adopts it by name (docs/xts.md).
        actions.append(manual["source.crossCloudCheckbox"].step)
        actions.append(plan_adopt(source, name))
    elif sp is None:
        actions.append(plan_instantiate(source, name))
    else:
        ids["servicePrincipalId"] = sp["id"]
        role_id = msiam_role_id(sp)
        if role_id:
            ids["appRoleId"] = role_id
        jobs = find_jobs(source, sp["id"])
        if len(jobs) > 1:
            notes.append(f"the configuration has {len(jobs)} Azure2Azure jobs; using {jobs[0].get('id')}")
        job = jobs[0] if jobs else None
        if job:
            ids["jobId"] = job["id"]
        if cross:
            actions.append(manual["source.crossCloudCheckbox"].step)

    groups = resolve_groups(source, options.groups)
    current = read_assignments(source, sp["id"]) if sp else []
    scoped = options.steps is None or bool({"source.assignments", "source.start"} & set(options.steps))
    if not groups and not current and scoped:
        raise InputError("nothing would be in the sync's scope: no --group given and the configuration has no "
                         "assignment.", field="--group",
                         hint="Give --group NAME (repeatable): the group's direct members are synced.")
    wanted = secrets_body(target.tenant_id, options.deletion_threshold, options.notify_email)
    secret_calls, unverifiable = plan_secrets(source, read_secrets(source, sp["id"]) if sp and job else None,
                                              wanted, job_is_new=job is None)
    if unverifiable:
        notes.append("Graph does not show this configuration's saved secrets, so they were not compared or "
                     "rewritten (use --force to write them again)")
        if options.force:
            secret_calls = plan_secrets(source, None, wanted, job_is_new=True)[0]
    assignment_calls = plan_assignments(source, groups, current)
    start_needed = job is None or (job.get("schedule") or {}).get("state") != "Active"
    later: list[Action] = []
    if job is None:
        later.append(plan_create_job(source))
    later += secret_calls + assignment_calls
    if start_needed:
        later.append(Call("source", "source.start", "POST",
                          "/servicePrincipals/{servicePrincipalId}/synchronization/jobs/{jobId}/start", None,
                          "start the job", permission="Synchronization.ReadWrite.All"))
    writes_before = any(isinstance(a, Call) and a.write for a in actions)
    if writes_before or later or job is None:
        # Test connection whenever something is (re)configured: it verifies the portal-only steps.
        actions.append(plan_validate(source, target.tenant_id))
    actions += later
    if job is not None:
        healthy = job_status(job).diagnoses
        for d in healthy:
            if d.severity == "error":
                # enable leaves a running job's state alone: say what is wrong with it and how to fix it.
                notes.append(f"the existing job {job.get('id')}: {d.message} Fix: {d.fix}")
        last_ok = ((job.get("status") or {}).get("lastSuccessfulExecution") or {}).get("timeEnded")
        if cross and last_ok and not any(d.severity == "error" for d in healthy):
            for m in manual.values():
                if m.status != "verified":
                    m.status, m.evidence = "verified", f"the job's last cycle succeeded ({last_ok})"
    if not any(isinstance(a, Call) and a.write for a in actions):
        for m in manual.values():
            if m.status != "verified":
                m.status = "not re-checked"
                m.evidence = ("nothing changed in this run, so no test connection was made; 'ccsync xts status' "
                              "shows whether the job reaches the target")
    if diffs and not options.force:
        raise ConfigurationConflict(
            "The partner settings are configured differently from what sync needs:\n  "
            + "\n  ".join(d.line() for d in diffs),
            hint="Nothing was written. Run again with --force to change these settings, or change them in the "
                 "portal.", differences=[d.to_dict() for d in diffs])
    plan = EnablePlan(source, target, pair, name, actions, diffs, ids, list(manual.values()), notes, job)
    return plan if options.steps is None else select_steps(plan, options.steps)


def select_steps(plan: EnablePlan, steps: list[str]) -> EnablePlan:
    """The plan narrowed to the named steps (a step already as asked stays a no-op).

    Refused (InputError, nothing written) for an unknown name, and for a step that needs another step which
    still has calls to make in this plan (not done in the tenant) and is not named itself.
    """
    unknown = [s for s in steps if s not in SELECTABLE_STEPS]
    if unknown:
        raise InputError(f"unknown step(s) for --step: {', '.join(unknown)}.", field="--step",
                         hint="Name one of: " + ", ".join(SELECTABLE_STEPS) + ".")
    chosen = [s.key for s in STEPS if s.key in set(steps)]
    pending = {a.step for a in plan.actions if isinstance(a, Call)}
    for key in chosen:
        for need in STEP_BY_KEY[key].needs:
            if need in pending and need not in chosen:
                step = STEP_BY_KEY[need]
                raise InputError(
                    f"--step {key} needs the step '{need}' ({step.title}), which is not done in the {step.tenant} "
                    f"tenant and not selected; nothing was written.", field="--step",
                    hint=f"Add --step {need}, or run without --step to run every step in order.")
    keep: list[Action] = []
    for index, action in enumerate(plan.actions):
        if isinstance(action, Call):
            if action.step in chosen:
                keep.append(action)
        elif any(isinstance(a, Call) and a.step in chosen for a in plan.actions[index + 1:]):
            keep.append(action)  # a portal step is shown before a chosen step that comes after it
    return replace(plan, actions=keep, selected=chosen)


ManualHook = Callable[[ManualStatus], bool]


def _remaining(actions: list[Action], index: int) -> list[str]:
    out = []
    for a in actions[index:]:
        out.append(f"manual: {a.instructions}" if isinstance(a, ManualStep) else f"{a.tenant}: {a.purpose}"
                   if a.write else f"{a.tenant}: {a.purpose} (check)")
    return out


def _done(sent: list[Call]) -> list[str]:
    return [f"{c.tenant}: {c.purpose} ({c.method} {c.path} -> {c.status})" for c in sent]


def execute_enable(plan: EnablePlan, *, on_manual: ManualHook | None = None,
                   on_call: Callable[[Call], None] | None = None, wait_for_admin: bool = False) -> EnableResult:
    """Send the plan's writes in order; stop with SyncSetupIncomplete (what was done, what is left) on failure.

    ``on_manual(status)`` is asked at each portal-only step (print it, wait for the admin); False stops there.
    With ``wait_for_admin``, a test connection that shows a portal step not done asks ``on_manual`` again and
    tests again once the admin says it is done (a person at a terminal); otherwise it stops there.
    """
    ids = dict(plan.ids)
    sent: list[Call] = []
    manual = {m.step.key: m for m in plan.manual}
    for index, action in enumerate(plan.actions):
        try:
            if isinstance(action, ManualStep):
                status = manual[action.key]
                if on_manual is not None and not on_manual(status):
                    raise SyncSetupIncomplete(
                        f"Stopped at the manual step '{action.key}' ({action.tenant} tenant).",
                        hint="Do the portal step shown above, then run the same 'ccsync xts enable' again.",
                        done=_done(sent), remaining=_remaining(plan.actions, index),
                        details={"manualSteps": [m.to_dict() for m in plan.manual]})
                continue
            _send(plan, action, ids, sent, on_manual if wait_for_admin else None)
            if on_call is not None:
                on_call(action)
        except SyncSetupIncomplete:
            raise
        except CcsyncError as err:
            is_check = isinstance(action, Call) and action.step == "source.testConnection"
            if not sent and not is_check:
                raise  # nothing was written: the error says all there is to say
            where = action.purpose if isinstance(action, Call) else action.key
            left = _remaining(plan.actions, index)
            # A portal step found not done comes first in what is left, even if its turn had passed.
            left = [f"manual: {m.step.instructions}" for m in plan.manual
                    if m.status == "not done" and f"manual: {m.step.instructions}" not in left] + left
            raise SyncSetupIncomplete(
                f"The setup stopped at '{where}': {err.message}",
                hint=err.hint or "Fix the cause and run the same 'ccsync xts enable' again (it continues from "
                                 "what exists).",
                done=_done(sent), remaining=left,
                details={"cause": err.to_dict(), "manualSteps": [m.to_dict() for m in plan.manual]}) from err
    return EnableResult(plan, sent, ids)


def _send(plan: EnablePlan, call: Call, ids: dict[str, str], sent: list[Call],
          ask_admin: ManualHook | None = None) -> None:
    side = plan.side(call.tenant)
    if call.step == "source.configuration" and call.method == "GET":
        _adopt(plan, side, call, ids, ask_admin)
        return
    if call.step == "source.testConnection":
        for _attempt in range(5):
            not_done = _test_connection(plan, side, Call(**{**call.__dict__}), ids, raise_on=ask_admin is None)
            if not not_done:
                return
            if not ask_admin(not_done):  # type: ignore[misc]
                break
        _test_connection(plan, side, Call(**{**call.__dict__}), ids, raise_on=True)
        return
    try:
        body = side.send(call, ids)
    except GraphConflict:
        # The documented answers to a 409 Request_MultipleObjectsWithSameKeyValue ([CTS-GRAPH] troubleshooting).
        if call.method == "POST" and call.path == f"{CTAP_PATH}/partners":
            side.calls[-1].state = "exists"  # created meanwhile: nothing to create
            return
        if not (call.method == "PUT" and call.path.endswith("/identitySynchronization")):
            raise
        call = Call(call.tenant, call.step, "PATCH", call.path, {"userSyncInbound": {"isSyncAllowed": True}},
                    call.purpose, permission=POLICY_PERMISSION)
        body = side.send(call, ids)
    sent.append(call)
    if call.step == "source.configuration":
        sp = (body or {}).get("servicePrincipal") or {}
        ids["servicePrincipalId"] = sp["id"]
        role_id = msiam_role_id(sp)
        if role_id:
            ids["appRoleId"] = role_id
        # A new configuration can take a few seconds to be readable ([CTS-PORTAL]): wait for it.
        side.client.request("GET", f"/servicePrincipals/{sp['id']}", params={"$select": "id,appRoles"},
                            retry_not_found=30.0)
    elif call.step == "source.job" and call.method == "POST":
        ids["jobId"] = (body or {})["id"]


def _adopt(plan: EnablePlan, side: TenantSide, call: Call, ids: dict[str, str], ask_admin: ManualHook | None) -> None:
    """Find the configuration the admin created in the portal; ask again (at a terminal) or stop if absent."""
    status = next((m for m in plan.manual if m.step.key == "source.crossCloudCheckbox"), None)
    for _attempt in range(5):
        sp = find_configuration(side, plan.name)
        if sp is not None:
            ids["servicePrincipalId"] = sp["id"]
            role_id = msiam_role_id(sp)
            if role_id:
                ids["appRoleId"] = role_id
            if status is not None:
                status.evidence = f"configuration '{plan.name}' found ({sp['id']}); its cross-cloud box is " \
                                  "checked by the test connection"
            return
        if status is not None:
            status.status, status.evidence = "not done", f"no configuration named '{plan.name}' in the source yet"
        if ask_admin is None or status is None or not ask_admin(status):
            break
    raise CcsyncError(f"the source tenant has no configuration named '{plan.name}' yet: for a cross-cloud sync it "
                      "must be created in the portal with 'Setup cross-tenant synchronization across Microsoft "
                      "clouds' ticked.",
                      hint="Do the manual step shown above, then run the same 'ccsync xts enable' again.")


def _test_connection(plan: EnablePlan, side: TenantSide, call: Call, ids: dict[str, str], *,
                     raise_on: bool) -> ManualStatus | None:
    """Run the test connection. On a failure that shows a portal step not done: raise, or (``raise_on`` False)
    return that step's status so the admin can be asked to do it."""
    try:
        side.send(call, ids)
    except GraphError as err:
        code = normalize_code(err.code)
        known = next((k for k in CODE_FIXES if code.endswith(k)), None)
        not_done = None
        for m in plan.manual:
            if known == "ExternalTenantNotFound" and m.step.key == "source.crossCloudCheckbox" or \
                    known == "AzureActiveDirectoryTokenExpired" and m.step.key == "target.crossCloudSyncCheckbox":
                m.status, m.evidence = "not done", f"test connection answered {err.code}"
                not_done = m
        if not_done is not None and not raise_on:
            return not_done
        meaning, fix = CODE_FIXES.get(known or "", (err.graph_message or "", "See the error and try again."))
        raise CcsyncError(f"test connection failed with {err.code}: {meaning}", hint=fix) from err
    for m in plan.manual:
        if m.status != "verified":
            m.status, m.evidence = "verified", "test connection (validateCredentials) succeeded"
    return None
