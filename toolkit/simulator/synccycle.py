"""The working state of one provisioning cycle of the simulated sync engine (see ``syncengine``).

A :class:`Cycle` holds the two tenants, the job and its attribute mapping, who is assigned, the counters that
become the job's execution, the provisioning records written, the deletions held for the threshold, and the
indexes a cycle builds once. The phase modules (``syncscope``, ``syncmatch``, ``syncexport``, ``syncdeletes``,
``synclog``, ``syncstatus``) read and write it; none keeps state of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .enterprise_apps import SyncJob

__all__ = ["Cycle", "iso"]


def iso(dt: datetime | None = None, fraction: bool = True) -> str:
    """A UTC time as Graph writes it (7 fraction digits, or none)."""
    dt = dt or datetime.now(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f0Z" if fraction else "%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Cycle:
    """One cycle of a job (or one on-demand provisioning): its tenants, job and mapping, and what it has done."""

    directory: Any
    source: Any
    target: Any
    sp: dict[str, Any]
    job: SyncJob
    cycle_id: str
    initiated_by: dict[str, Any]
    mapping: dict[str, Any]
    assigned: dict[str, bool] = field(default_factory=dict)   # user id -> assigned (directly or by a group)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("imported", "deltas", "entitled", "exports", "exported", "escrowed"), 0))
    records: list[dict[str, Any]] = field(default_factory=list)
    # per-cycle working state
    disables: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    context: dict[str, tuple[dict[str, Any], dict[str, str], Any]] = field(default_factory=dict)
    quarantined: bool = False
    alt_index: dict[str, tuple[str, bool]] | None = None
    homes: dict[str, dict[str, str]] = field(default_factory=dict)
    linked_mail: dict[str, str] | None = None
    proxies: dict[str, str] | None = None
    user_started: float = 0.0           # perf_counter when the current user's evaluation began
    upns: set[str] | None = None

    def remember(self, uid: str, user: dict[str, Any], scoping: dict[str, str], read: Any) -> None:
        """Keep what a held-back deletion or disable needs when it is applied or logged later in the cycle."""
        self.context[uid] = (user, scoping, read)
