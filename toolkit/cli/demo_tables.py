"""The tables ``ccsync demo`` prints for each section of the demo's document (``toolkit.demo``), by section key.

Tenant sections are drawn with who they belong to (``{"profile", "cloud", "graph"}``); the scenario's sections
on their own. Only what the document holds is shown, so the tables and ``--output json`` cannot disagree.
"""

from __future__ import annotations

from typing import Any, Callable

from .output import add_rows, cell, key_value_table, new_table

__all__ = ["TENANT_TABLES", "SYNC_TABLES", "render_summary"]


def render_sign_in(console: Any, who: dict[str, Any], section: dict[str, Any]) -> None:
    console.print(key_value_table([
        ("profile", who["profile"]), ("cloud", who["cloud"]), ("organization", section["organization"]),
        ("tenant ID", section["tenantId"]), ("Graph", who["graph"])],
        title=f"{who['profile']}: signed in through msal"))


def render_users(console: Any, who: dict[str, Any], section: dict[str, Any]) -> None:
    table = new_table("displayName", "userPrincipalName", "userType", "accountEnabled", "usageLocation",
                      title=f"{who['profile']}: {section['count']} users (first {len(section['sample'])})")
    add_rows(table, [(u["displayName"], u["userPrincipalName"], u["userType"], u["accountEnabled"],
                      u["usageLocation"]) for u in section["sample"]])
    console.print(table)


def render_skus(console: Any, who: dict[str, Any], section: dict[str, Any]) -> None:
    table = new_table("skuPartNumber", "enabled", "consumed", title=f"{who['profile']}: subscribed SKUs")
    add_rows(table, [(s["skuPartNumber"], s["enabled"], s["consumed"]) for s in section["skus"]])
    console.print(table)


def render_export(console: Any, section: dict[str, Any]) -> None:
    table = new_table("role", "tenant", "cloud", "users", "licence rows", "snapshot", title="Export")
    add_rows(table, [(role, s["tenant"], s["cloud"], s["counts"]["users"], s["counts"]["license_assignments"],
                      s["snapshot"]) for role, s in section.items()])
    console.print(table)


def render_eligibility(console: Any, section: dict[str, Any]) -> None:
    console.print(key_value_table([
        ("pair", f"{section['pair']['source']} -> {section['pair']['target']} ({section['pair']['kind']})"),
        ("users in scope", section["usersInScope"]), ("eligible", section["eligible"]),
        ("not eligible", section["notEligible"]), ("workbook", section["report"])],
        title="Licence eligibility for cross-cloud sync"))
    console.print(add_rows(new_table("status", "users"), sorted(section["byStatus"].items())))


def render_plan(console: Any, section: dict[str, Any]) -> None:
    counts = section["counts"]
    console.print(key_value_table([("plan file", section["planFile"]), ("workbook", section["report"])],
                                  title="Sync plan"))
    console.print(add_rows(new_table("operation", "users"), [(k, v) for k, v in counts.items() if k != "total"]))
    if section["needsAttention"]:
        console.print(add_rows(new_table("kind", "source user", "reason", title="Needs attention"),
                               [(r["kind"], r["user"], r["reason"]) for r in section["needsAttention"]]))


def render_apply(console: Any, section: dict[str, Any]) -> None:
    rows = [("result", section["message"]), ("writes sent", section["writesSent"]),
            ("elapsed (s)", section["elapsedSeconds"]), ("journal", section["journal"]),
            ("workbook", section["workbook"]), ("csv", section["csv"])]
    console.print(key_value_table(rows, title="Apply to the target cloud"))
    if section["failures"]:
        console.print(add_rows(new_table("source user", "status", "code", "message", title="Failed"),
                               [(f["user"], f["status"], f["code"], f["message"]) for f in section["failures"]]))


def render_replan(console: Any, section: dict[str, Any]) -> None:
    counts = section["counts"]
    console.print(key_value_table([("remaining operations", section["remainingOperations"]),
                                   ("conflicts (unchanged)", counts.get("conflict")),
                                   ("blocked (unchanged)", counts.get("blocked")), ("result", section["message"])],
                                  title="Re-plan after apply"))


def render_migrate(console: Any, section: dict[str, Any]) -> None:
    if "skipped" in section:
        console.print(f"migration: {section['skipped']}")
        return
    console.print(key_value_table([("file", section["file"]), ("layout", section["layout"]),
                                   ("rows (valid / invalid)", f"{section['valid']} / {section['invalid']}"),
                                   ("plan", section["planFile"]), ("validation workbook", section["workbook"]),
                                   ("generated passwords", section["passwordsFile"] or "(none)"),
                                   ("result", section["message"])], title="CSV migration into the target"))
    console.print(add_rows(new_table("outcome", "users"), sorted(section["states"].items())))


def render_xts(console: Any, section: dict[str, Any]) -> None:
    status = section["status"]
    last = status.get("lastExecution") or {}
    console.print(key_value_table([
        ("configuration", section["configuration"]), ("job", section["jobId"]),
        ("writes sent", section["writesSent"]), ("second enable would send", f"{section['secondRunWrites']} write(s)"),
        ("job state", f"{status['state']} / {status['code']}"),
        ("last cycle", f"{last.get('state')} (exported {last.get('countExported')})" if last else "none yet"),
        ("quarantine", (status.get("quarantine") or {}).get("reason") if status["quarantined"] else "no"),
        ("diagnosis", "; ".join(d["code"] for d in status["diagnoses"]) or "healthy")],
        title="Entra cross-cloud sync (ccsync xts)"))
    if section["provisioned"]:
        console.print(add_rows(new_table("source user", "action", "target UPN", "userType", "enabled",
                                         title=f"Users provisioned by Entra's sync ({section['provisionedFrom']})"),
                               [(cell(u["source"]), u["action"], cell(u["userPrincipalName"]), u["userType"],
                                 u["accountEnabled"]) for u in section["provisioned"]]))


def render_entra(console: Any, section: dict[str, Any]) -> None:
    preview, plan = section["preview"]["counts"], section["plan"]["counts"]

    def outcomes(counts: dict[str, int]) -> str:
        return ", ".join(f"{v} {k}" for k, v in counts.items() if v and k != "total") or "nothing to do"

    console.print(key_value_table([
        ("job", section["jobId"]), ("next cycle as the job stands", outcomes(preview)),
        ("accidental-deletion threshold", section["preview"]["deletionThreshold"] or "off"),
        ("desired scope", section["scopeFile"] or "no change (no samples/entra-scope.txt)"),
        ("scope changes", len(section["scopeChanges"])),
        ("cycle after the scope change", outcomes(plan)), ("plan", section["plan"]["planFile"]),
        ("plan workbook", section["plan"]["report"]), ("run", section["run"]), ("cycle ended", section["cycleEnded"]),
        ("planned vs. observed", f"{len(section['users'])} user(s), {section['mismatches']} mismatch(es)"),
        ("results workbook", section["report"])],
        title="Plan and apply through Entra's sync job (ccsync plan --job, ccsync apply)"))
    if section["scopeChanges"]:
        console.print(add_rows(new_table("change", "group", "user", "state", title="Scope changes made"),
                               [(c["action"], c["groupName"], cell(c["userPrincipalName"]), c["state"])
                                for c in section["scopeChanges"]]))
    if section["users"]:
        console.print(add_rows(new_table("source user", "planned", "observed", "match", "detail",
                                         title="Planned vs. observed"),
                               [(cell(u["sourceUpn"]), u["planned"], u["observed"], "yes" if u["match"] else "NO",
                                 cell(u["detail"])) for u in section["users"]]))


def render_logs(console: Any, section: dict[str, Any]) -> None:
    f = section["fetched"]

    def counts(role: str) -> str:
        return f"{f[role].get('provisioning', 0)} provisioning, {f[role].get('audit', 0)} audit"

    console.print(key_value_table([
        ("source tenant logs", counts("source")), ("target tenant logs", counts("target")),
        ("provisioning workbook", f"{section['provisioningWorkbook']} ({section['provisioningEvents']} events)"),
        ("audit workbook", f"{section['auditWorkbook']} ({section['auditEvents']} events)")],
        title="Provisioning and audit logs"))


def render_summary(console: Any, tenants: list[dict[str, Any]]) -> None:
    summary = new_table("profile", "cloud", "users", "SKUs", "Graph requests", "throttled", "status", title="Summary")
    add_rows(summary, [(t["profile"], t["cloud"], t["steps"].get("users", {}).get("count"),
                        t["steps"].get("subscribedSkus", {}).get("count"),
                        (t["graphCalls"] or {}).get("requests"), (t["graphCalls"] or {}).get("throttled"),
                        "failed" if "error" in t else "ok") for t in tenants])
    console.print(summary)


TENANT_TABLES: dict[str, Callable[[Any, dict[str, Any], dict[str, Any]], None]] = {
    "signIn": render_sign_in, "users": render_users, "subscribedSkus": render_skus}

SYNC_TABLES: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "export": render_export, "eligibility": render_eligibility, "plan": render_plan, "apply": render_apply,
    "replan": render_replan, "migrate": render_migrate, "xts": render_xts, "entra": render_entra,
    "logs": render_logs}
