"""TEST-ONLY: deterministic places where an apply kills itself with SIGKILL, for the crash tests.

``tests/test_apply_crash.py`` kills ``ccsync apply`` at random moments; these points make the same test hit
chosen moments on every run. Set ``CCSYNC_TEST_KILL_AT`` in the environment of the child process to:

* ``journal:N``: right after the N-th journal transaction of this process has been committed (N >= 1);
* ``phase:NAME``: on reaching a phase boundary: ``verify`` (target verified, before the journal is opened),
  ``reconcile``, ``check`` (stale and deleted-items checks), ``send`` (before the first ``$batch`` is sent),
  ``settle`` (the first ``$batch`` has come back, before its outcome is journaled) or ``done`` (everything
  journaled, before the results are written).

Never set it in real use: the process dies without cleaning up, exactly as a power cut or ``kill -9`` would.
When it is not set (always, outside tests) each check is one attribute lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["ENV", "after_journal_write", "at_phase"]

ENV = "CCSYNC_TEST_KILL_AT"
_SPEC = os.environ.get(ENV, "").strip()
_writes = 0
_phases_seen: set[str] = set()


def _die() -> None:
    kill = getattr(signal, "SIGKILL", None)
    if kill is not None:
        os.kill(os.getpid(), kill)
    os._exit(137)                                              # no SIGKILL (Windows): the nearest thing


def after_journal_write() -> None:
    """Called by the journal after each committed transaction."""
    global _writes
    if not _SPEC.startswith("journal:"):
        return
    _writes += 1
    if _writes == int(_SPEC.split(":", 1)[1]):
        _die()


def at_phase(name: str) -> None:
    """Called by the executor at each phase boundary (the first time it reaches ``name``)."""
    if not _SPEC.startswith("phase:") or name in _phases_seen:
        return
    _phases_seen.add(name)
    if _SPEC == f"phase:{name}":
        _die()
