"""Reading the target during an apply: GETs through ``$batch`` (safe to resend), the users that operations touch,
and the users a create of unknown outcome may already have made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import quote

from ..graph import BatchRequest, BatchResult
from .operations import address_lookup_url, link_filter_url, select_for

if TYPE_CHECKING:
    from .run import Run

__all__ = ["read", "get_users", "lookup_created", "chunks", "LOOKUP_SELECT"]

LOOKUP_SELECT = ("id", "userPrincipalName", "mail", "creationType", "onPremisesExtensionAttributes")


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    """``items`` in slices of ``size`` (look-ups go out in rounds of several ``$batch``es)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def read(run: "Run", requests: list[BatchRequest]) -> dict[str, BatchResult]:
    """Run GETs through $batch; results by request id."""
    if not requests:
        return {}
    return {r.id: r for r in run.client.batch(requests)}


def get_users(run: "Run", op_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    """The target users of ``op_ids`` as they are now (None: gone); each one shown to the write-time guard."""
    reqs = [BatchRequest(f"r{i}", "GET", f"/users/{run.ops[o].target_id or run.entries[o].target_id}"
                         f"?$select={','.join(select_for(run.ops[o]))}")
            for i, o in enumerate(op_ids)]
    results = read(run, reqs)
    out: dict[str, dict[str, Any] | None] = {}
    for i, o in enumerate(op_ids):
        res = results[f"r{i}"]
        if res.status == 404:
            out[o] = None
        elif res.ok:
            out[o] = res.body if isinstance(res.body, dict) else {}
        else:
            raise res.error  # type: ignore[misc]
        run.guard.observe(o, out[o])
    return out


def lookup_created(run: "Run", op_ids: list[str]) -> dict[str, str | None]:
    """Target ids of users a create may already have made: by link, then by invitation mail / planned UPN."""
    found: dict[str, str | None] = {o: None for o in op_ids}
    reqs = [BatchRequest(f"k{i}", "GET", link_filter_url(run.link_attr, run.ops[o].link or "", LOOKUP_SELECT))
            for i, o in enumerate(op_ids)]
    results = read(run, reqs)
    second: list[str] = []
    for i, o in enumerate(op_ids):
        res = results[f"k{i}"]
        if res.status == 400:
            # The service refused the extension-attribute filter: the mail / UPN look-up below decides.
            second.append(o)
            continue
        if not res.ok:
            raise res.error  # type: ignore[misc]
        hits = res.body.get("value", []) if isinstance(res.body, dict) else []
        if hits:
            found[o] = hits[0]["id"]
        else:
            second.append(o)
    if second:
        # The link look-up is an advanced query, whose index lags behind writes (docs/graph-facts.md 6.4):
        # a user created moments ago may not be in it yet. These look-ups are plain reads that see it.
        reqs = []
        for i, o in enumerate(second):
            op = run.ops[o]
            if op.create_as(run.create_as) == "invite":
                reqs.append(BatchRequest(f"m{i}", "GET", address_lookup_url(op.source_upn or "", LOOKUP_SELECT)))
            else:
                upn = quote(str(op.attrs.get("userPrincipalName") or ""), safe="@")
                reqs.append(BatchRequest(f"m{i}", "GET", f"/users/{upn}?$select={','.join(LOOKUP_SELECT)}"))
        results = read(run, reqs)
        for i, o in enumerate(second):
            res = results[f"m{i}"]
            if res.status == 404 and run.ops[o].create_as(run.create_as) == "member":
                continue
            if not res.ok:
                raise res.error  # type: ignore[misc]
            body = res.body if isinstance(res.body, dict) else {}
            member = run.ops[o].create_as(run.create_as) == "member"
            hits = [body] if member else body.get("value", [])
            for hit in hits:
                if member or hit.get("creationType") == "Invitation":
                    found[o] = hit["id"]
                    break
    return found
