"""The ``ccsync demo`` scenario as a library: simulated clouds started in-process, every seeded tenant read
through msal and the real Graph client, then Contoso (commercial) -> Fabrikam Federal (GCC High) exported,
checked for licences, planned, applied, migrated, synced by Entra's own job, and its logs fetched.

``run_demo(seed_dir, out_dir, progress=..., warn=...) -> DemoResult``; ``scenario`` drives the steps, one module
per step (``tenant``, ``export``, ``eligibility``, ``plan``, ``apply``, ``migrate``, ``xts``, ``entra``,
``logs``), ``runs`` holds what they share. The demo sits above the core and the simulator: nothing below the
CLI imports it.
"""

from __future__ import annotations

from .scenario import SYNC_STEPS, TENANT_STEPS, DemoResult, run_demo

__all__ = ["run_demo", "DemoResult", "SYNC_STEPS", "TENANT_STEPS"]
