"""What the demo's steps share: the run of one simulated tenant (``TenantRun``), the cross-cloud scenario's run
(``SyncRun``), a step's declaration, and the two file chores every step needs (saving Graph JSON, forgetting
what an earlier demo left)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["TenantRun", "SyncRun", "Step", "save_graph_json", "forget_database", "ignore"]

# The scenario: Contoso (commercial) -> Fabrikam Federal (GCC High).
SOURCE_CLOUD, TARGET_CLOUD = "commercial", "gcch"


def ignore(_message: str) -> None:
    """The default progress and warning sink: the library never prints."""


@dataclass
class TenantRun:
    """One simulated tenant going through the demo: its profile, its Graph client, and what steps found."""

    profile: Any
    secret: str
    out_dir: Path | None = None
    client: Any = None
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass
class SyncRun:
    """The demo's cross-cloud scenario (Contoso -> Fabrikam Federal): what each sync step left behind."""

    source: TenantRun
    target: TenantRun
    out_dir: Path
    samples: Path
    sim: Any = None
    data: dict[str, Any] = field(default_factory=dict)      # step results that later steps read
    sections: dict[str, Any] = field(default_factory=dict)
    warn: Callable[[str], None] = ignore                    # what a step wants the person to notice


@dataclass(frozen=True)
class Step:
    """One demo step: ``run(subject)`` returns its JSON-friendly section, kept under ``key``."""

    key: str                                        # the section name in the JSON document
    title: str                                      # progress message
    run: Callable[[Any], dict[str, Any]]


def save_graph_json(run: TenantRun, name: str, items: list[dict[str, Any]]) -> str | None:
    """Keep what Graph returned in Graph's own collection shape, so offline inputs can read it back."""
    if run.out_dir is None:
        return None
    from toolkit.private import make_private_dir
    from toolkit.writefile import write_text

    folder = make_private_dir(run.out_dir / run.profile.name, what="demo output folder")   # it names users
    path = write_text(folder / f"{name}.json", json.dumps({"value": items}, indent=2, ensure_ascii=False))
    return str(path)


def forget_database(path: Path) -> None:
    """Remove an SQLite file (journal, log archive) and its -wal/-shm side files left by an earlier demo.

    Every demo starts fresh simulated tenants (new ids): a journal or archive from an earlier run belongs to
    another plan and tenant, and would make this run a no-op or mix tenants.
    """
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
