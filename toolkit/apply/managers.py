"""The manager step of an apply: ``PUT /users/{id}/manager/$ref`` once a created user and its manager both exist.

A plan asks for a manager on a create with one of two change attributes (migrations: ``toolkit/migrate/convert.py``):

* ``@manager``: the object id of a user already in the target;
* ``@managerOp``: the opId of another create in the same plan (a manager the migration itself adds).

The step runs after the create and its follow-ups (``finish``), as its own journal step ``manager``, so a resumed
run knows it is the only thing left. It waits until the manager's own create has taken effect (its journal entry
has a target id and is past its ``main`` step; the manager's own follow-ups or manager need not be finished, so
two users who manage each other do not wait for each other). When the manager's create failed or was skipped,
the step fails with a message that names the manager, and ``--retry-failed`` retries it after the manager.

Assigning the same manager twice answers 204 again (user-post-manager.md: PUT replaces the reference), so a step
whose outcome is unknown after an interruption is simply sent again: the user ends with exactly one manager.
A just-created user or manager that Graph does not see yet (replication lag) answers 404 (Graph's
``Request_ResourceNotFound``; a 400 that says the reference "does not exist" is treated the same): the executor
retries it like the other follow-ups until ``lag_tolerance`` has passed.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..graph import BatchRequest, BatchResult
from .operations import Operation

__all__ = ["MANAGER_STEP", "wants_manager", "manager_target", "manager_request", "is_lag"]

MANAGER_STEP = "manager"


def wants_manager(op: Operation) -> bool:
    """True when the plan asks apply to set this create's manager."""
    return op.kind in ("create", "restore") and bool(op.extra.get("manager") or op.extra.get("managerOp"))


def manager_target(op: Operation, entries: Mapping[str, Any], ops: Mapping[str, Operation]) -> tuple[str, str | None]:
    """Where the manager stands: ``("ready", managerId)``, ``("wait", None)`` or ``("failed", reason)``.

    ``entries``: the journal entries by opId (``target_id``, ``step``, ``state``).
    """
    if op.extra.get("manager"):
        return "ready", str(op.extra["manager"])
    other = str(op.extra.get("managerOp") or "")
    entry = entries.get(other)
    name = _name(ops.get(other)) or other
    if entry is None:
        return "failed", f"the manager {name} is not an operation of this plan; plan the file again"
    if entry.target_id and entry.step != "main":
        return "ready", str(entry.target_id)
    if entry.state in ("failed", "skipped"):
        return "failed", (f"the user was created, but its manager {name} was not ({entry.state}): fix the "
                          "manager's row, then apply with --retry-failed to create it and set this manager")
    return "wait", None


def manager_request(op: Operation, target_id: str, manager_id: str, req_id: str, graph_root: str) -> BatchRequest:
    """user-post-manager.md: PUT the manager's read URL as ``@odata.id``."""
    return BatchRequest(req_id, "PUT", f"/users/{target_id}/manager/$ref",
                        {"@odata.id": f"{graph_root}/users/{manager_id}"})


def is_lag(res: BatchResult) -> bool:
    """An answer that may only mean a just-created user or manager has not replicated yet."""
    if res.status == 404:
        return True
    message = str(res.error.graph_message or "") if res.error is not None else ""
    return res.status == 400 and "does not exist" in message


def _name(op: Operation | None) -> str | None:
    if op is None:
        return None
    return str(op.attrs.get("userPrincipalName") or op.source_upn or op.op_id)
