"""The planner's options (``PlanOptions``): what the admin chose for one plan, checked when made. Defaults come
from toolkit/defaults.py; ``to_dict`` is the ``options`` object of the plan file's header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import defaults
from ..errors import InputError

__all__ = ["PlanOptions"]


@dataclass(frozen=True)
class PlanOptions:
    on_deprovision: str = defaults.ON_DEPROVISION          # delete (soft delete, Entra's default) | disable
    deletion_threshold: int = defaults.DELETION_THRESHOLD           # Entra's default; deletes + disables together
    allow_deletes: int = defaults.ALLOW_DELETES                  # explicit allowance above the threshold (admin's opt-in)
    link_attribute: str = defaults.LINK_ATTRIBUTE
    create_as: str = defaults.CREATE_AS               # invite (B2B member via /invitations) | member (POST /users)
    allow_older_target: bool = False
    check_licences: bool = True
    # Given to every user ccsync creates in the target (chained after the create in one $batch).
    target_licenses: tuple[str, ...] = ()   # skuIds of the target tenant
    target_groups: tuple[str, ...] = ()     # object ids of target groups
    # A scope that matches no source user, against a target with linked users, would deprovision every one of
    # them: refused unless the admin says the empty scope is meant. Not part of the plan file's options.
    confirm_empty_scope: bool = False
    # Matching an existing target user by mail or UPN takes it over (ccsync writes its link, and later may
    # disable or delete it): only with the admin's explicit opt-in (--adopt); otherwise such a match is a
    # conflict.
    adopt: bool = False

    def __post_init__(self) -> None:
        if self.on_deprovision not in ("delete", "disable"):
            raise InputError(f"on_deprovision must be 'delete' or 'disable', not {self.on_deprovision!r}")
        if self.create_as not in ("invite", "member"):
            raise InputError(f"create_as must be 'invite' or 'member', not {self.create_as!r}")
        if self.deletion_threshold < 0 or self.allow_deletes < 0:
            raise InputError("the deletion threshold and the deletion allowance cannot be negative")
        if not self.link_attribute.startswith("extensionAttribute") or not \
                self.link_attribute[len("extensionAttribute"):].isdigit() or \
                not 1 <= int(self.link_attribute[len("extensionAttribute"):]) <= 15:
            raise InputError(f"link attribute {self.link_attribute!r} is not one of extensionAttribute1..15",
                             hint="Pick an extension attribute your tenant does not use, e.g. extensionAttribute15.")

    def to_dict(self) -> dict[str, Any]:
        return {"onDeprovision": self.on_deprovision, "deletionThreshold": self.deletion_threshold,
                "allowDeletes": self.allow_deletes, "linkAttribute": self.link_attribute,
                "createAs": self.create_as, "checkLicences": self.check_licences,
                "targetLicenses": list(self.target_licenses), "targetGroups": list(self.target_groups),
                "adopt": self.adopt}
