"""``ccsync xts ...``: set up, run and diagnose Entra's own cross-tenant / cross-cloud synchronization.

Thin commands over ``toolkit.xts``. Tenant-changing commands show what they will change and ask first
(``--yes`` skips the question; without a terminal and without ``--yes`` they refuse); ``--what-if`` lists every
call per tenant (method, path, body with secrets masked) and writes nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .. import defaults
from .options import configuration_name_option, job_id_option, tenant_profile_option, what_if_option, yes_option
from .output import add_rows, cell, common_options, emit, info, key_value_table, new_table, state, warn

def _side(role: str, profile_name: str) -> Any:
    from toolkit.config import get_profile
    from toolkit.xts.calls import TenantSide

    profile = get_profile(profile_name, state().config)
    return TenantSide.from_profile(role, profile)


def _interactive() -> bool:
    return sys.stdin.isatty() and not state().json


def _confirm(question: str, yes: bool, what: str) -> None:
    """Ask before changing a tenant; refuse without a terminal unless --yes."""
    from toolkit.errors import InputError

    if yes:
        return
    if not _interactive():
        raise InputError(f"{what} needs confirmation, and there is no terminal to ask on; nothing was written.",
                         hint="Review with --what-if, then run again with --yes.")
    if not click.confirm(question, default=False, err=True):
        raise InputError("not confirmed; nothing was written.", hint="Review with --what-if.")


def _email(value: str | None) -> str | None:
    if value is not None and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
        raise click.BadParameter(f"'{value}' is not an e-mail address.", param_hint="--notify-email")
    return value


def _body_text(body: Any) -> str:
    return "" if body is None else json.dumps(body, sort_keys=True)


def _render_calls(console: Any, calls: list[dict[str, Any]], title: str) -> None:
    table = new_table("tenant", "method", "path", "body (secrets masked)", "purpose", title=title)
    add_rows(table, [(f"{c['tenant']} {c['tenantId'] or ''} ({c['cloud']})", c["method"], cell(c["path"]),
                      cell(_body_text(c["body"])), cell(c["purpose"])) for c in calls])
    console.print(table)


def _print_manual(status: Any) -> None:
    step = status.step
    info("")
    info(f"MANUAL STEP ({step.tenant} tenant, portal only; ccsync cannot do this through Graph):")
    info(f"  {step.instructions}")
    info(f"  Portal: {step.portal}")
    info(f"  ccsync verifies it by: {step.verify}")
    info(f"  Status now: {status.status}" + (f" ({status.evidence})" if status.evidence else ""))


def _say_progress(err: Any) -> None:
    """Before the error line: exactly which steps were done and which are left (table mode shows no JSON)."""
    if state().json:
        return  # the JSON error document carries "done" and "remaining"
    info("Done before it stopped:" if err.done else "Nothing was written before it stopped.")
    for line in err.done:
        info(f"  done: {line}")
    for line in err.remaining:
        info(f"  left: {line}")


def _manual_hook(yes: bool) -> Any:
    def hook(status: Any) -> bool:
        _print_manual(status)
        if status.status == "verified" or yes or not _interactive():
            return True
        answer = click.prompt("Press Enter once it is done (or type q to stop here)", default="", show_default=False,
                              err=True)
        return answer.strip().lower() not in ("q", "quit", "stop")
    return hook


class _StepChoice(click.Choice):
    """enable's step names, read from toolkit.xts.steps only when used (the CLI imports the engine lazily)."""

    def __init__(self) -> None:
        super().__init__((), case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        from toolkit.xts.steps import SELECTABLE_STEPS

        return tuple(SELECTABLE_STEPS)

    @choices.setter
    def choices(self, _value: Any) -> None:
        pass


# --- the group ---------------------------------------------------------------------------------------------

@click.group("xts")
@common_options
def xts_group() -> None:
    """Entra's own cross-tenant / cross-cloud synchronization: enable it in both tenants, run it, diagnose it.

    Each tenant is reached through its own profile, on its own cloud's Graph.
    Example: ccsync xts enable --source contoso-ccsync --target fabrikamfederal --group CCS-Sync-Scope --what-if
    """


source_option = tenant_profile_option("source", help="Profile of the source tenant (the users are copied FROM it; "
                                                      "the job lives there).")
job_option = job_id_option(default=None)
name_option = configuration_name_option()
_send_what_if = what_if_option(help="Show the call; send nothing.")


@xts_group.command("enable")
@source_option
@click.option("--target", "target_name", required=True, metavar="PROFILE",
              help="Profile of the target tenant (the users are copied INTO it).")
@click.option("--group", "groups", multiple=True, metavar="NAME",
              help="Scoping group (displayName or id) in the source; its direct members are synced. Repeatable.")
@name_option
@click.option("--deletion-threshold", type=click.IntRange(min=0), default=defaults.DELETION_THRESHOLD,
              show_default=True,
              help="Accidental-deletion threshold (deletions and disables per cycle); 0 turns the protection off.")
@click.option("--notify-email", default=None, metavar="EMAIL", callback=lambda _c, _p, v: _email(v),
              help="Send Entra's quarantine notifications to this address.")
@click.option("--force", is_flag=True, default=False,
              help="Change partner settings that are explicitly configured otherwise (shown as a diff first).")
@click.option("--step", "steps", multiple=True, type=_StepChoice(), metavar="NAME",
              help="Run only this step (repeatable; the names are the 'step' of each call in --what-if). A step "
                   "that needs an earlier one not done yet in the tenant is refused unless that one is named too; "
                   "steps already as asked send nothing.")
@click.option("--what-if", is_flag=True, default=False, help="List every call per tenant; write nothing.")
@click.option("--yes", "-y", is_flag=True, default=False, help="Do not ask before writing.")
@common_options
def enable_command(source_name: str, target_name: str, groups: tuple[str, ...], name: str | None,
                   deletion_threshold: int, notify_email: str | None, force: bool, steps: tuple[str, ...],
                   what_if: bool, yes: bool) -> None:
    """Set up Entra's sync from the source tenant to the target tenant, in the documented order, idempotently:
    target cloud settings, partner entry, inbound user sync and inbound automatic redemption; source cloud
    settings, partner entry, outbound automatic redemption, the configuration from its template, test
    connection, the Azure2Azure job, its secrets, the scoping groups' assignments, start. Steps Microsoft
    documents only in the portal are printed with the exact clicks, and verified afterwards (test connection).
    A second run with the same inputs sends no write. --step NAME (repeatable) runs only the named steps, in
    the documented order: target.cloudSettings, target.partner, target.inboundSync, target.inboundRedemption,
    source.cloudSettings, source.partner, source.outboundRedemption, source.configuration, source.testConnection,
    source.job, source.secrets, source.assignments, source.start (the cloudSettings steps are cross-cloud only).

    Needs (application permissions) source: Policy.ReadWrite.CrossTenantAccess, Application.ReadWrite.All,
    Synchronization.ReadWrite.All, AppRoleAssignment.ReadWrite.All, Group.Read.All; target:
    Policy.ReadWrite.CrossTenantAccess.

    Example: ccsync xts enable --source contoso-ccsync --target fabrikamfederal --group CCS-Sync-Scope --yes

    Example: ccsync xts enable --source contoso-ccsync --target fabrikamfederal --step target.partner --step target.inboundSync --yes
    """
    from toolkit.errors import SyncSetupIncomplete
    from toolkit.xts.enable import EnableOptions, check_sides, execute_enable, plan_enable

    source, target = _side("source", source_name), _side("target", target_name)
    pair = check_sides("enable", source, target)
    source.load_organization()
    target.load_organization()
    options = EnableOptions(list(groups), name, deletion_threshold, notify_email, force,
                            steps=list(steps) if steps else None)
    plan = plan_enable(source, target, options, pair)
    for note in plan.notes:
        warn(note)
    if what_if:
        info(f"What if: {len(plan.writes)} write(s) would be sent; nothing was written.")
        data = plan.to_dict()
        data["whatIf"] = True

        def render_plan(console: Any) -> None:
            for role in ("target", "source"):
                _render_calls(console, [c for c in data["calls"] if c["tenant"] == role and c["state"] != "read"],
                              f"{role}: calls enable would make")
            _render_manual(console, data["manualSteps"])
        emit(data, render_plan)
        return
    if not plan.writes:
        result = execute_enable(plan)
    else:
        if not yes:
            info(f"enable will send {len(plan.writes)} write(s):")
            for c in plan.writes:
                info(f"  {c.tenant:6} {c.method:6} {c.path}  ({c.purpose})")
        _confirm(f"Change the {source.name} and {target.name} tenants as listed?", yes,
                 "'ccsync xts enable' changes two tenants and")
        try:
            result = execute_enable(plan, on_manual=_manual_hook(yes), wait_for_admin=_interactive() and not yes)
        except SyncSetupIncomplete as err:
            _say_progress(err)
            raise
    info(result.message())
    data = result.to_dict()

    def render(console: Any) -> None:
        if data["sent"]:
            _render_calls(console, data["sent"], "Writes sent")
        console.print(key_value_table([("configuration", data["configuration"]),
                                       ("service principal", data["servicePrincipalId"]), ("job", data["jobId"]),
                                       ("result", data["message"])], title="Entra sync"))
        _render_manual(console, data["manualSteps"])
    emit(data, render)


def _render_manual(console: Any, manual: list[dict[str, Any]]) -> None:
    if manual:
        table = new_table("tenant", "portal-only step", "status", "evidence", title="Manual steps (portal only)")
        add_rows(table, [(m["tenant"], cell(m["instructions"]), m["status"], cell(m["evidence"])) for m in manual])
        console.print(table)


@xts_group.command("status")
@source_option
@job_option
@name_option
@common_options
@click.pass_context
def status_command(ctx: click.Context, source_name: str, job_id: str | None, name: str | None) -> None:
    """Show each sync job of the source tenant: state, schedule, last cycle and its counts, steady state,
    quarantine and its reason, synchronized entries by type, and a diagnosis with the fix for the documented
    failures. Exit code 1 when a job is in quarantine or failing.

    Needs (source): Application.Read.All, Synchronization.Read.All.

    Example: ccsync xts status --source contoso-ccsync
    """
    from toolkit.xts.control import read_status
    from toolkit.xts.permissions import check_permissions

    source = _side("source", source_name)
    check_permissions("status", source)
    source.load_organization()
    statuses = read_status(source, job_id=job_id, name=name)
    data = {"jobs": [s.to_dict() for s in statuses], "failing": any(s.failing for s in statuses)}

    def render(console: Any) -> None:
        for s in statuses:
            last = s.last_execution or {}
            console.print(key_value_table([
                ("configuration", s.configuration), ("job", s.job_id), ("schedule", f"{s.state} every {s.interval}"),
                ("status", s.code), ("last cycle", f"{last.get('state')} {last.get('timeBegan') or ''} -> "
                                                   f"{last.get('timeEnded') or ''}" if last else "none yet"),
                ("last cycle counts", ", ".join(f"{k[5:].lower()} {last.get(k)}" for k in
                                                ("countImported", "countExported", "countEscrowed") if k in last)),
                ("last success", s.last_successful), ("steady state reached", s.steady_state_last),
                ("quarantine", (s.quarantine or {}).get("reason") if s.quarantined else "no"),
                ("synchronized", ", ".join(f"{k}: {v}" for k, v in s.entry_counts.items()) or "none")],
                title=f"Sync job {s.job_id}"))
            if s.diagnoses:
                console.print(add_rows(new_table("severity", "code", "diagnosis", "fix", title="Diagnosis"),
                                       [(d.severity, d.code, cell(d.message), cell(d.fix)) for d in s.diagnoses]))
    emit(data, render)
    if data["failing"]:
        ctx.exit(1)


@xts_group.command("provision")
@source_option
@click.argument("users", nargs=-1, required=True, metavar="USER...")
@job_option
@name_option
@common_options
@click.pass_context
def provision_command(ctx: click.Context, source_name: str, users: tuple[str, ...], job_id: str | None,
                      name: str | None) -> None:
    """Provision USER... (UPNs or object ids of the source) now, on demand, paced at Graph's 5 requests per 10
    seconds; shows each step's result per user. Exit code 1 if a user failed.

    Needs (source): Application.Read.All, Synchronization.ReadWrite.All, User.Read.All.

    Example: ccsync xts provision --source contoso-ccsync adele.vance@contoso.com
    """
    from toolkit.xts.control import provision
    from toolkit.xts.permissions import check_permissions

    source = _side("source", source_name)
    check_permissions("provision", source)
    source.load_organization()
    if len(users) > 5:
        info(f"Provisioning {len(users)} users on demand at 5 per 10 seconds (Graph's limit) ...")
    results = provision(source, list(users), job_id=job_id, name=name, on_warning=warn)
    failed = [r for r in results if str(r.result).lower() not in ("success", "skipped")]
    data = {"results": [r.to_dict() for r in results], "failed": len(failed)}

    def render(console: Any) -> None:
        for r in results:
            table = new_table("step", "status", "description",
                              title=f"{r.user}: {r.result}" + (f" ({r.error_code})" if r.error_code else ""))
            add_rows(table, [(s.get("name"), s.get("status"), cell(s.get("description"))) for s in r.steps]
                     or [("", "", cell(r.message))])
            console.print(table)
    emit(data, render)
    if failed:
        ctx.exit(1)


def _control(action: str, source_name: str, job_id: str | None, name: str | None, what_if: bool, **kw: Any) -> None:
    from toolkit.xts.control import act
    from toolkit.xts.permissions import check_permissions

    source = _side("source", source_name)
    check_permissions(action, source)
    source.load_organization()
    call, target = act(source, action, job_id=job_id, name=name, what_if=what_if, **kw)
    data = {"action": action, "whatIf": what_if, "call": call.to_dict(source), "jobId": target.job_id,
            "servicePrincipalId": target.sp_id}
    info(("What if: would send " if what_if else "Sent ") + f"{call.method} {call.path}"
         + (f" {json.dumps(call.body)}" if call.body else ""))

    def render(console: Any) -> None:
        _render_calls(console, [data["call"]], "What would be sent" if what_if else "Sent")
    emit(data, render)


@xts_group.command("pause")
@source_option
@job_option
@name_option
@_send_what_if
@common_options
def pause_command(source_name: str, job_id: str | None, name: str | None, what_if: bool) -> None:
    """Pause the sync job (its state is kept; 'start' continues where it stopped).

    Needs (source): Application.Read.All, Synchronization.ReadWrite.All.

    Example: ccsync xts pause --source contoso-ccsync
    """
    _control("pause", source_name, job_id, name, what_if)


@xts_group.command("start")
@source_option
@job_option
@name_option
@_send_what_if
@common_options
def start_command(source_name: str, job_id: str | None, name: str | None, what_if: bool) -> None:
    """Start (or resume) the sync job; cycles then run on Entra's fixed schedule (about every 40 minutes).

    Needs (source): Application.Read.All, Synchronization.ReadWrite.All.

    Example: ccsync xts start --source contoso-ccsync
    """
    _control("start", source_name, job_id, name, what_if)


@xts_group.command("restart")
@source_option
@job_option
@name_option
@click.option("--force-deletes", is_flag=True, default=False,
              help="resetScope ForceDeletes: carry out the deletions held back by the accidental-deletion threshold "
                   "(releases a TooManyDeletes quarantine). Asks first.")
@click.option("--full", is_flag=True, default=False,
              help="resetScope Full: forget all state and re-evaluate every user (an initial cycle).")
@_send_what_if
@yes_option(help="Do not ask before --force-deletes.")
@common_options
def restart_command(source_name: str, job_id: str | None, name: str | None, force_deletes: bool, full: bool,
                    what_if: bool, yes: bool) -> None:
    """Restart the sync job. Without options: resetScope 'Watermark, Escrows, QuarantineState' (the portal's
    'Restart provisioning': lifts quarantine, clears the retry queue, re-evaluates every user).

    Needs (source): Application.Read.All, Synchronization.ReadWrite.All.

    Example: ccsync xts restart --source contoso-ccsync --force-deletes --yes
    """
    if force_deletes and not what_if:
        _confirm("Carry out the deletions the accidental-deletion threshold held back?", yes,
                 "'ccsync xts restart --force-deletes' soft-deletes target users and")
    _control("restart", source_name, job_id, name, what_if, force_deletes=force_deletes, full=full)


@xts_group.command("disable")
@source_option
@tenant_profile_option("target", help="Profile of the target tenant.")
@name_option
@click.option("--policies", is_flag=True, default=False,
              help="Also delete the partner entries that hold only what enable sets (entries with B2B or trust "
                   "settings are kept), and the cloud setting when no partner is left.")
@what_if_option(help="List every call per tenant; write nothing.")
@yes_option(help="Do not ask before deleting.")
@common_options
def disable_command(source_name: str, target_name: str, name: str | None, policies: bool, what_if: bool,
                    yes: bool) -> None:
    """Remove what 'enable' created, in reverse order: the job, the configuration, then the target's inbound
    user sync (with --policies also the partner entries enable made). Users already synchronized stay in the target, as
    Entra leaves them.

    Needs source: Application.ReadWrite.All, Synchronization.ReadWrite.All; target:
    Policy.ReadWrite.CrossTenantAccess.

    Example: ccsync xts disable --source contoso-ccsync --target fabrikamfederal --what-if
    """
    from toolkit.errors import SyncSetupIncomplete
    from toolkit.xts.control import execute_disable, plan_disable
    from toolkit.xts.enable import check_sides

    source, target = _side("source", source_name), _side("target", target_name)
    check_sides("disable", source, target)
    source.load_organization()
    target.load_organization()
    plan = plan_disable(source, target, name, policies=policies)
    for kept in plan.kept:
        info(f"Kept: {kept}")
    if what_if or not plan.calls:
        data = {**plan.to_dict(), "whatIf": what_if, "sent": []}
        info("Nothing to remove." if not plan.calls else f"What if: {len(plan.calls)} call(s); nothing was written.")
        emit(data, lambda console: _render_calls(console, data["calls"], "Calls disable would make"))
        return
    if not yes:
        for c in plan.calls:
            info(f"  {c.tenant:6} {c.method:6} {c.path}  ({c.purpose})")
    _confirm(f"Delete these {len(plan.calls)} object(s)/setting(s)?", yes, "'ccsync xts disable' deletes and")
    kept_before = len(plan.kept)
    try:
        sent = execute_disable(plan)
    except SyncSetupIncomplete as err:
        _say_progress(err)
        raise
    for kept in plan.kept[kept_before:]:
        info(f"Kept: {kept}")
    info(f"Removed {len(sent)} object(s)/setting(s).")
    data = {**plan.to_dict(), "whatIf": False, "sent": [c.to_dict(plan.side(c.tenant)) for c in sent]}
    emit(data, lambda console: _render_calls(console, data["sent"], "Removed"))
