"""``ccsync apply``: carry out a plan in its target tenant, exactly once, resumable; results workbook and CSV."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

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
@click.option("--profile", "-p", "profile_name", required=True, metavar="NAME",
              help="Profile of the plan's target tenant (its tenant and cloud must be the plan's target).")
@click.option("--what-if", is_flag=True, default=False,
              help="Check the plan against the target and show what would happen; write nothing.")
@click.option("--yes", "-y", is_flag=True, default=False,
              help="Confirm the plan's deletes and disables without asking.")
@click.option("--resume", is_flag=True, default=False,
              help="Continue an interrupted run (the target is re-read before anything is resent).")
@click.option("--retry-failed", is_flag=True, default=False,
              help="Send the operations that failed in an earlier run again.")
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Journal file. Default: PLAN.journal.sqlite next to the plan.")
@click.option("--results", "results_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Results workbook (.xlsx). Default: PLAN.results.xlsx next to the plan.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Results CSV. Default: PLAN.results.csv next to the plan.")
@click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True,
              help="$batch requests in flight at once.")
@click.option("--quota-window-scale", type=click.FloatRange(min=0.0001), default=1.0, show_default=True,
              help="Multiply Graph's quota windows by this factor (only for a simulator run with scaled windows).")
@click.option("--trust-unsigned-plan", is_flag=True, default=False,
              help="Apply a plan that is not signed with your key (unsigned, made by someone else, or changed after "
                   "signing) AFTER you reviewed it. The schema and write-time checks still apply.")
@click.option("--auto-reconcile-proxy-conflict", is_flag=True, default=False,
              help="Restore a deleted user even if another object now holds one of its proxy addresses (Entra "
                   "drops those addresses from the restored user). Without it such a restore fails and says so.")
@click.option("--progress", "progress_mode", type=click.Choice(PROGRESS_MODES), default="auto", show_default=True,
              help="auto: a progress bar on a terminal; events: JSON lines on stderr (for hosts); none.")
@common_options
def apply_command(plan_path: str, profile_name: str, what_if: bool, yes: bool, resume: bool, retry_failed: bool,
                  journal_path: str | None, results_path: str | None, csv_path: str | None, concurrency: int,
                  quota_window_scale: float, trust_unsigned_plan: bool, auto_reconcile_proxy_conflict: bool,
                  progress_mode: str) -> None:
    """Carry out PLAN (a plan file written by 'ccsync plan') in its target tenant through Graph: batched,
    paced below the write quota, journaled, and resumable without duplicates. The plan's integrity hash, tenant and
    cloud are checked first, and for invitations across clouds the target's cross-tenant access settings (the
    source's cloud allowed, a partner entry allowing inbound B2B, app invitations allowed); target
    users that changed since planning are skipped (stale), never overwritten. Ctrl-C stops after the requests
    in flight; --resume continues. Exit code 1 if any operation failed.

    Example: ccsync apply plan.json --profile fabrikam --what-if
    """
    from toolkit.apply import ApplyOptions, apply_plan, write_results_csv, write_results_workbook
    from toolkit.config import get_profile
    from toolkit.errors import InputError
    from toolkit.graph import GraphClient, WritePacer
    from toolkit.plan.planfile import load_plan

    plan = load_plan(plan_path)
    signature = plan.check_signature(plan_path, trust_unsigned=trust_unsigned_plan)
    if not signature.valid:
        warn(f"The plan is {signature.describe()}; applying it because --trust-unsigned-plan says you reviewed it.")
    profile = get_profile(profile_name, state().config)
    actionable = plan.actionable
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
                           auto_reconcile_proxy_conflict=auto_reconcile_proxy_conflict)

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
        base = Path(plan_path)
        xlsx = Path(results_path) if results_path else base.with_name(base.name + ".results.xlsx")
        csv = Path(csv_path) if csv_path else base.with_name(base.name + ".results.csv")
        data["workbook"] = str(write_results_workbook(result, xlsx, plan_file=plan_path))
        data["csv"] = str(write_results_csv(result, csv))
    info(result.message())

    def render(console: Any) -> None:
        s = result.summary
        rows = [("target", f"{s['target'].get('displayName') or ''} {s['target']['tenantId']} ({s['target']['cloud']})"),
                ("operations", s["operations"]), *[(k, v) for k, v in sorted(s["states"].items())],
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
