"""The write-time guard: the last check before a request to Graph is built, whatever the plan file says.

A plan file is untrusted input (it may be edited and its hash recomputed, or applied with
``--trust-unsigned-plan``), so the executor asks this guard about every request it is about to send, at the one
place where requests are built. The rule:

    ccsync writes to a target user only if it **created** that user in this run (or in an interrupted run of the
    same plan, as its journal records), or the user is **linked** to this plan's source tenant and source user
    (ccsync's link attribute, as read from the target just before writing), or the operation **adopts** the user
    with the explicit opt-in (``adopt: true`` in the plan: only the planner puts it there, on the updates and
    disables of users it matched by mail or UPN in a plan made with ``--adopt``; absent means false), and the
    user carries no link to anyone else.

What counts as "linked" is read from the target, never from the plan: the executor's pre-write reads
(``reads.get_users``: the stale check and the reconciliation of unknown outcomes) pass each user they read to
``observe``; those reads always select ``onPremisesExtensionAttributes``. Creates and restores (a restore is
only ever chosen by the executor, from a deleted user carrying this source's link) are allowed as such; their
follow-ups and their manager step (``PUT /users/{id}/manager/$ref``, managers.py) only reach the id the create
returned (``created``). Requests of any other shape are refused, so a
change in ``operations.py`` cannot slip past the guard unnoticed.

A refused operation fails with the guard's message; nothing of it is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import WriteRefused
from ..graph import BatchRequest
from ..plan.rules import is_writable_target

__all__ = ["WriteGuard", "WriteRefused"]

_USER = re.compile(r"^/users/(?P<id>[^/?#]+)(?P<rest>/assignLicense)?$")
_GROUP_REF = re.compile(r"^/groups/(?P<group>[^/?#]+)/members/\$ref$")
_MANAGER_REF = re.compile(r"^/users/(?P<id>[^/?#]+)/manager/\$ref$")
_RESTORE = re.compile(r"^/directory/deletedItems/(?P<id>[^/?#]+)/restore$")
_MEMBER_ID = re.compile(r"/directoryObjects/(?P<id>[^/?#]+)$")
# Properties ccsync itself puts into a POST /users body besides the mapped attributes (operations.new_user_body).
_CREATE_EXTRAS = {"passwordProfile", "onPremisesExtensionAttributes", "accountEnabled"}


@dataclass
class WriteGuard:
    """Remembers which target users may be written in this run, and checks each request against that."""

    source_tenant_id: str
    link_attribute: str
    observed: dict[str, tuple[str, str | None]] = field(default_factory=dict)   # op_id -> (user id, its link)
    made: dict[str, str] = field(default_factory=dict)                          # op_id -> id it created/restored

    # --- what the executor tells the guard -----------------------------------------------------------------
    def observe(self, op_id: str, user: Mapping[str, Any] | None) -> None:
        """A target user as just read for ``op_id`` (None: not found)."""
        if not isinstance(user, Mapping) or not user.get("id"):
            self.observed.pop(op_id, None)
            return
        ext = user.get("onPremisesExtensionAttributes")
        link = ext.get(self.link_attribute) if isinstance(ext, Mapping) else None
        self.observed[op_id] = (str(user["id"]), str(link) if link else None)

    def created(self, op_id: str, target_id: str) -> None:
        """``op_id``'s create or restore took effect as ``target_id``."""
        if target_id:
            self.made[op_id] = str(target_id)

    # --- the check -------------------------------------------------------------------------------------------
    def check(self, op: Any, step: str, requests: Iterable[BatchRequest], journal_target: str | None = None) -> None:
        """Raise WriteRefused unless every request of ``op`` at ``step`` writes only what the rule allows."""
        for req in requests:
            self._check_one(op, step, req, journal_target)

    def _refuse(self, op: Any, why: str) -> None:
        raise WriteRefused(f"operation {op.op_id} ({op.kind}) was not sent: {why}",
                           hint="ccsync only writes to users it created or that are linked to this plan's source; "
                                "make a new plan with 'ccsync plan' (adopting unlinked users needs --adopt).")

    def _check_one(self, op: Any, step: str, req: BatchRequest, journal_target: str | None) -> None:
        url, method = req.url, req.method.upper()
        create = op.kind in ("create", "restore")
        bad_attrs = sorted(a for a in getattr(op, "attrs", {}) if not is_writable_target(a, create=create))
        if bad_attrs:
            self._refuse(op, f"it writes attribute(s) ccsync never writes: {', '.join(bad_attrs)}")
        if method == "POST" and url in ("/invitations", "/users"):
            if op.kind != "create" or step != "main":
                self._refuse(op, f"{method} {url} is only for creating a user")
            if url == "/users":
                extra = sorted(k for k in (req.body or {})
                               if k not in _CREATE_EXTRAS and not is_writable_target(k, create=True))
                if extra:
                    self._refuse(op, f"the new user's body holds {', '.join(extra)}")
            return
        restore = _RESTORE.match(url)
        if restore:
            if method != "POST" or op.kind != "restore" or restore.group("id") != op.target_id:
                self._refuse(op, "a restore is only sent for a deleted user carrying this source's link")
            return
        group = _GROUP_REF.match(url)
        if group:
            member = _MEMBER_ID.search(str((req.body or {}).get("@odata.id", "")))
            if method != "POST" or step != "finish" or member is None or group.group("group") not in op.groups:
                self._refuse(op, "a group membership is only added for a user this run created")
            self._allowed_user(op, step, member.group("id"), journal_target)
            return
        manager = _MANAGER_REF.match(url)
        if manager:
            # managers.py: the manager of a user this run created, once both exist (a migration's @manager).
            if method != "PUT" or step != "manager" or op.kind not in ("create", "restore"):
                self._refuse(op, "a manager is only set for a user this run created")
            self._allowed_user(op, "finish", manager.group("id"), journal_target)
            return
        user = _USER.match(url)
        if user and method in ("PATCH", "DELETE", "POST"):
            if method == "POST" and not user.group("rest"):
                self._refuse(op, f"unexpected request POST {url}")
            if method == "DELETE" and (op.kind != "delete" or step != "main"):
                self._refuse(op, "only a planned delete may delete a user")
            self._allowed_user(op, step, user.group("id"), journal_target)
            return
        self._refuse(op, f"ccsync never sends {method} {url}")

    def _allowed_user(self, op: Any, step: str, user_id: str, journal_target: str | None) -> None:
        if step == "finish" or op.kind in ("create", "restore"):
            if user_id in (self.made.get(op.op_id), journal_target) and user_id:
                return
            self._refuse(op, f"user {user_id} is not the user this operation created")
        seen = self.observed.get(op.op_id)
        if seen is None or seen[0] != user_id:
            self._refuse(op, f"user {user_id} was not read from the target before writing, so its link is unknown")
        link = seen[1]
        expected = op.link or ""
        if link is not None and expected and link.lower() == expected.lower():
            return
        if bool(getattr(op, "adopt", False)) is True and link is None:
            return                                  # adoption, with the admin's explicit opt-in
        if link is None:
            self._refuse(op, f"target user {user_id} is not linked to this source (no {self.link_attribute}) and "
                             "the plan does not adopt it")
        self._refuse(op, f"target user {user_id} is linked to {link!r}, not to {expected!r}")
