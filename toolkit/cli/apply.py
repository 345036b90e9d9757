"""``ccsync apply``: carry out a plan in its target tenant, exactly once, resumable; results workbook and CSV."""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

import click

from .options import profile_option, what_if_option, yes_option
from .output import add_rows, cell, common_options, emit, info, key_value_table, new_table, state, warn

PROGRESS_MODES = ("auto", "bar", "events", "none")


def _progress(mode: str) -> tuple[Any, Any]:
    """(on_event callback, closer) for the chosen progress mode; stderr only."""
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() and not state().json else "none"
    if mode == "none":
        return None, lambda: None
    if mode == "events":
        def on_event(event: dict[str, Any]) -> None:
            click.echo(json.dumps(event), err=True)
        return on_event, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]} ops/s"), TimeRemainingColumn(),
                        console=Console(file=sys.stderr), transient=False)
    task = progress.add_task("applying", total=None, rate="-")
    progress.start()

    def on_bar(event: dict[str, Any]) -> None:
        if event.get("event") == "apply_phase":
            progress.update(task, description=str(event.get("phase")), total=event.get("total"))
        elif event.get("event") == "apply_progress":
            progress.update(task, completed=event["completed"], total=event["total"], rate=event["rate"])
        elif event.get("event") == "apply_stopping":
            progress.update(task, description="stopping after the requests in flight")
    return on_bar, progress.stop


@click.command("apply")
@click.argument("plan_path", metavar="PLAN", type=click.Path(exists=True, dir_okay=False))
@profile_option(help="Profile of the plan's target tenant (its tenant and cloud must be the plan's target).")
@what_if_option(help="Check the plan against the target and show what would happen; write nothing.")
@yes_option(help="Confirm the plan's deletes and disables without asking.")
@click.option("--resume", is_flag=True, default=False,
              help="Continue an interrupted run (the target is re-read before anything is resent).")
@click.option("--retry-failed", is_flag=True, default=False,
              help="Send the operations that failed in an earlier run again.")
@click.option("--operation", "operations", multiple=True, metavar="OPID",
              help="Apply only this operation of the plan (repeatable; a create comes with its licences, groups and "
                   "manager). The others are left for a later apply; held operations stay held. Unknown ids are "
                   "refused before anything is written.")
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Journal file. Default: PLAN.journal.sqlite next to the plan.")
@click.option("--results", "results_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Results workbook (.xlsx). Default: PLAN.results.xlsx next to the plan.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Results CSV. Default: PLAN.results.csv next to the plan.")
@click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True,
              help="$batch requests in flight at once.")
@click.option("--quota-window-scale", type=click.FloatRange(min=0.0001), default=1.0, show_default=True, hidden=True,
              help="Simulator only: multiply Graph's quota windows by this factor (a simulator run with scaled "
                   "windows).")
@click.option("--trust-unsigned-plan", is_flag=True, default=False,
              help="Apply a plan that is not signed with your key (unsigned, made by someone else, or changed after "
                   "signing) AFTER you reviewed it. The schema and write-time checks still apply.")
@click.option("--auto-reconcile-proxy-conflict", is_flag=True, default=False,
              help="Restore a deleted user even if another object now holds one of its proxy addresses (Entra "
                   "drops those addresses from the restored user). Without it such a restore fails and says so.")
@click.option("--progress", "progress_mode", type=click.Choice(PROGRESS_MODES), default="auto", show_default=True,
              help="auto: a progress bar on a terminal; events: JSON lines on stderr (for hosts); none.")
@click.option("--on-demand", is_flag=True, default=False,
              help="entra plans: provision the planned users on demand (5 requests per 10 s) instead of starting "
                   "the job.")
@click.option("--no-wait", is_flag=True, default=False,
              help="entra plans: start the job and return; verify later with --verify-only.")
@click.option("--verify-only", is_flag=True, default=False,
              help="entra plans: only compare the plan with what the job's last run did (planned vs. observed).")
@click.option("--timeout", "timeout_s", type=click.IntRange(min=0), default=3600, show_default=True,
              help="entra plans: seconds to wait for the job's cycle to end.")
@click.option("--target-profile", metavar="NAME",
              help="entra plans: also check the target users themselves after the cycle (target tenant profile).")
@common_options
def apply_command(plan_path: str, profile_name: str, what_if: bool, yes: bool, resume: bool, retry_failed: bool,
                  operations: tuple[str, ...], journal_path: str | None, results_path: str | None, csv_path: str | None, concurrency: int,
                  quota_window_scale: float, trust_unsigned_plan: bool, auto_reconcile_proxy_conflict: bool,
                  progress_mode: str, on_demand: bool = False, no_wait: bool = False, verify_only: bool = False,
                  timeout_s: int = 3600, target_profile: str | None = None) -> None:
    """Carry out PLAN (a plan file written by 'ccsync plan') in its target tenant through Graph: batched,
    paced below the write quota, journaled, and resumable without duplicates. The plan's integrity hash, tenant and
    cloud are checked first, and for invitations across clouds the target's cross-tenant access settings (the
    source's cloud allowed, a partner entry allowing inbound B2B, app invitations allowed); target
    users that changed since planning are skipped (stale), never overwritten. Ctrl-C stops after the requests
    in flight; --resume continues. Exit code 1 if any operation failed.

    Example: ccsync apply plan.json --profile fabrikam --what-if

    Only some operations, after reviewing each (what Invoke-CcsSyncPlan does per user): repeat --operation OPID;
    a later apply without it carries out the rest, exactly once.

    An entra-engine plan ('ccsync plan --job ...') is applied through Entra's own sync job with the SOURCE
    tenant's profile: refused when the job's schema, scope or settings changed since the plan; then the plan's
    scope changes (journaled, exactly once), the job started (or --on-demand), the cycle waited for, and planned
    vs. observed per user from the provisioning logs. Exit code 1 on any mismatch.

    Example: ccsync apply plan.json --profile contoso-ccsync --target-profile fabrikamfederal
    """
    from toolkit.apply import ApplyOptions, apply_plan
    from toolkit.apply.sidefiles import write_results
    from toolkit.config import get_profile
    from toolkit.errors import InputError
    from toolkit.graph import GraphClient, WritePacer
    from toolkit.apply.selection import select_operations
    from toolkit.plan.planfile import load_plan

    plan = load_plan(plan_path)
    selection = select_operations(plan, operations)          # unknown op ids: exit 2 before anything else
    signature = plan.check_signature(plan_path, trust_unsigned=trust_unsigned_plan)
    if not signature.valid:
        warn(f"The plan is {signature.describe()}; applying it because --trust-unsigned-plan says you reviewed it.")
    profile = get_profile(profile_name, state().config)
    if plan.header.get("engine") == "entra":
        if selection.partial:
            raise InputError("--operation applies to direct-engine plans; an entra plan is carried out by Entra's "
                             "job as a whole", field="operation",
                             hint="Leave --operation out, or change the job's scope and plan again.")
        _apply_entra(plan, plan_path, profile, what_if=what_if, yes=yes, resume=resume, journal_path=journal_path,
                     results_path=results_path, csv_path=csv_path, on_demand=on_demand, no_wait=no_wait, verify_only=verify_only,
                     timeout_s=timeout_s, target_profile=target_profile)
        return
    actionable = plan.actionable
    actionable = actionable[actionable["opId"].isin(list(selection.ids))] if selection.partial else actionable
    destructive = int(actionable["kind"].isin(["delete", "disable"]).sum())
    allow = yes
    if destructive and not yes and not what_if:
        if sys.stdin.isatty() and not state().json:
            allow = click.confirm(f"The plan deletes or disables {destructive} target user(s). Continue?",
                                  default=False, err=True)
            if not allow:
                raise InputError("deletes and disables were not confirmed; nothing was written",
                                 hint="Review the plan (ccsync plan ... --workbook) and run again.")
    pacer = WritePacer.scaled(quota_window_scale) if quota_window_scale != 1.0 else WritePacer()
    on_event, close_progress = _progress(progress_mode)
    client = GraphClient.from_profile(profile, pacer=pacer)
    stop = threading.Event()
    options = ApplyOptions(what_if=what_if, resume=resume, retry_failed=retry_failed, allow_destructive=allow,
                           journal_path=journal_path, concurrency=concurrency, on_event=on_event, stop=stop,
                           auto_reconcile_proxy_conflict=auto_reconcile_proxy_conflict,
                           operations=tuple(operations) or None)

    def on_sigint(_signum: int, _frame: Any) -> None:
        # First Ctrl-C: stop sending, let the requests in flight finish and be journaled. Second: abort.
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        info("Stopping after the requests in flight (Ctrl-C again to abort; --resume continues) ...")

    # Signal handlers can only be set from the main thread (a host may run the CLI elsewhere).
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    try:
        result = apply_plan(plan, client, cloud=profile.cloud, plan_path=plan_path, options=options)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        close_progress()
    data: dict[str, Any] = result.to_dict()
    data["signature"] = signature.status
    if result.stats.get("lockTakenOver"):
        warn(f"The earlier run of this plan ended without releasing its lock: {result.stats['lockTakenOver']}.")
    if not what_if and not result.nothing_to_do:
        data.update(write_results(result, plan_path, results_path, csv_path))
    info(result.message())

    def render(console: Any) -> None:
        s = result.summary
        rows = [("target", f"{s['target'].get('displayName') or ''} {s['target']['tenantId']} ({s['target']['cloud']})"),
                ("operations", s["operations"]), *[(k, v) for k, v in sorted(s["states"].items())],
                ("not selected", s.get("notSelected") or None),
                ("elapsed (s)", s["elapsedSeconds"]), ("writes sent", s["writesSent"]),
                ("writes per second", s["writesPerSecond"]), ("throttled (429)", s["throttled"]),
                ("journal", data.get("journal")), ("workbook", data.get("workbook")), ("csv", data.get("csv"))]
        console.print(key_value_table([(k, v) for k, v in rows if v is not None], title="Apply"))
        shown = result.frame[result.frame["state"].isin(["failed", "skipped", "planned"])]
        if len(shown):
            table = new_table("operation", "state", "source", "target", "status / code", "message",
                              title="Operations to look at" if not what_if else "What would happen")
            add_rows(table, [[cell(r.kind), cell(r.state), cell(r.sourceUpn), cell(r.targetUpn or r.targetId),
                              cell(" ".join(str(x) for x in (r.httpStatus, r.errorCode) if x is not None
                                            and str(x) != "<NA>")), cell(r.message or r.action)]
                             for r in shown.head(50).itertuples()])
            console.print(table)

    emit(data, render)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _apply_entra(plan: Any, plan_path: str, profile: Any, *, what_if: bool, yes: bool, resume: bool,
                 journal_path: str | None, results_path: str | None, csv_path: str | None, on_demand: bool, no_wait: bool, verify_only: bool,
                 timeout_s: int, target_profile: str | None) -> None:
    """An entra-engine plan: carried out through the job (toolkit.apply.entra)."""
    import pandas as pd

    from toolkit.apply.entra import EntraApplyResult, apply_entra_plan, check_stale, verify_entra_plan
    from toolkit.apply.sidefiles import entra_run_started, journal_path_for, results_paths
    from toolkit.config import get_profile
    from toolkit.errors import InputError
    from toolkit.xts.calls import TenantSide

    side = TenantSide.from_profile("source", profile)
    side.load_organization()
    changes = plan.header.get("scopeChanges") or []
    journal = journal_path_for(plan_path, journal_path)
    if what_if or verify_only:
        check_stale(plan, side, resuming=verify_only)
    if what_if:
        data = {"whatIf": True, "scopeChanges": changes, "run": "on-demand" if on_demand else "start",
                "counts": plan.counts()}
        info(f"The plan is current. Would make {len(changes)} scope change(s), then "
             f"{'provision the planned users on demand' if on_demand else 'start the job'}.")
        emit(data, lambda console: console.print(key_value_table(
            [("scope changes", len(changes)), ("then", data["run"])], title="What would happen")))
        return
    target_side = TenantSide.from_profile("target", get_profile(target_profile, state().config)) \
        if target_profile else None
    if verify_only:
        from toolkit.xts.control import locate_one

        since = entra_run_started(plan, journal)
        sp = locate_one(side, job_id=plan.header["job"]["id"]).sp_id
        result = EntraApplyResult(scope_changes=pd.DataFrame(columns=["changeId", "action", "state"]), run="none",
                                  started_at=since)
        result.verification = verify_entra_plan(plan, side, since=since, sp_id=sp, target_side=target_side)
    else:
        removals = sum(c["action"] in ("removeMember", "unassignGroup") for c in changes)
        destructive = int((plan.ops["kind"].isin(["delete", "disable"]) & ~plan.ops["held"]).sum())
        if (removals or destructive) and not yes:
            if sys.stdin.isatty() and not state().json:
                if not click.confirm(f"The plan removes {removals} scope assignment(s) or membership(s) and the "
                                     f"cycle will delete or disable {destructive} target user(s). Continue?",
                                     default=False, err=True):
                    raise InputError("not confirmed; nothing was written", hint="Review the plan and run again.")
            else:
                raise InputError("the plan removes scope or deletes/disables users, and there is no terminal to "
                                 "confirm it", hint="Pass --yes after reviewing the plan.")
        result = apply_entra_plan(plan, side, journal_path=journal, resume=resume, on_demand=on_demand,
                                  wait=not no_wait, timeout_s=float(timeout_s), target_side=target_side)
    data = result.to_dict()
    data["journal"] = str(journal)
    if result.verification is not None or len(result.scope_changes):
        from toolkit.report.entra_plan import write_entra_results_workbook

        xlsx, csv = results_paths(plan_path, results_path, csv_path)
        data["workbook"] = str(write_entra_results_workbook(xlsx, plan, result, plan_file=plan_path))
        if result.verification is not None:
            result.verification.to_csv(csv, index=False)
            data["csv"] = str(csv)
    for note in result.notes:
        info(note)
    if result.verification is not None:
        info(f"{len(result.verification)} planned user(s) checked; {result.mismatches} mismatch(es)")

    def render(console: Any) -> None:
        console.print(key_value_table([("run", result.run), ("started", result.started_at),
                                       ("cycle ended", result.cycle_ended), ("scope changes", len(changes)),
                                       ("mismatches", result.mismatches)], title="Apply through the job"))
        if result.verification is not None:
            shown = result.verification[~result.verification["match"]].head(50)
            if len(shown):
                console.print(add_rows(new_table("source user", "planned", "observed", "detail",
                                                 title="Planned vs. observed: mismatches"),
                                       shown[["sourceUpn", "planned", "observed", "detail"]].values.tolist()))

    emit(data, render)
    if result.mismatches or result.failed_changes:
        raise click.exceptions.Exit(1)
