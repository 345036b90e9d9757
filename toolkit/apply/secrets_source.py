"""Where ``apply`` gets a migration's passwords from: never from the plan, the journal, a log or a report.

A migration plan (``header.migration``) marks every member it creates with ``@password``:

* ``file``: the CSV gave a password. The plan records the CSV's absolute path and SHA-256; apply re-reads the
  file (or a file of the same name next to the plan) and refuses to go on if its SHA-256 differs, because the
  rows it validated are then not the rows it would send.
* ``generated``: the CSV gave none. Apply generates one that meets Entra's password policy (16 characters,
  all four character types, not containing the account's name) and writes it, before anything is sent, to
  ``PLAN.passwords.csv`` next to the plan: mode 0600, written atomically, re-used as it is by ``--resume``
  (so a user created before an interruption keeps the password the admin hands on). Such users must change
  the password at first sign-in (``forceChangePasswordNextSignIn``).

``attach_secrets(plan, ops, plan_path=..., what_if=...)`` sets ``Operation.password``; it does nothing for plans
that are not migrations. A what-if run checks the CSV's hash but generates and writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
import string
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

__all__ = ["attach_secrets", "passwords_path", "generate_password", "GENERATED_LENGTH"]

GENERATED_LENGTH = 16
_SYMBOLS = "!#%*_-+=?"          # a subset of Entra's password symbols that needs no quoting anywhere


def passwords_path(plan_path: str | os.PathLike[str]) -> Path:
    p = Path(plan_path)
    return p.with_name(p.name + ".passwords.csv")


def generate_password(names: Iterable[str] = (), length: int = GENERATED_LENGTH) -> str:
    """A random password meeting Entra's policy: starts with a letter (so no spreadsheet reads it as a
    formula), has lower, upper, digit and symbol, and contains none of ``names`` (3+ characters)."""
    alphabet = string.ascii_letters + string.digits + _SYMBOLS
    lowered = [n.lower() for n in names if n and len(n) >= 3]
    while True:
        pw = secrets.choice(string.ascii_letters) + "".join(secrets.choice(alphabet) for _ in range(length - 1))
        if (any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw)
                and any(c in _SYMBOLS for c in pw) and not any(n in pw.lower() for n in lowered)):
            return pw


def _csv_passwords(migration: dict[str, Any], plan_path: str | os.PathLike[str] | None) -> dict[str, str]:
    """Passwords by lower-cased UPN from the plan's CSV, after checking it is byte-for-byte the planned file."""
    from ..migrate.formats import detect_layout
    from ..migrate.read import parse_bytes

    candidates = [Path(migration["path"])]
    if plan_path is not None:
        candidates.append(Path(plan_path).resolve().parent / migration["file"])
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise InputError(f"the plan takes passwords from {migration['file']}, which is not at "
                         f"{migration['path']} nor next to the plan; nothing was written", field="migration.path",
                         hint="Put the CSV the plan was made from back at that path (or next to the plan).")
    data = found.read_bytes()
    if hashlib.sha256(data).hexdigest() != migration["sha256"]:
        raise InputError("the CSV changed after the plan was made (its SHA-256 differs); nothing was written",
                         source=str(found), hint="Validate and plan it again ('ccsync migrate plan'), then apply "
                                                 "the new plan.")
    table = parse_bytes(data, str(found))
    cols = detect_layout(table.header).by_field()
    if "password" not in cols or "userPrincipalName" not in cols:
        return {}
    pi, ui = cols["password"].index, cols["userPrincipalName"].index
    return {rec[ui].strip().lower(): rec[pi] for rec in table.rows if len(rec) > max(pi, ui) and rec[pi]}


def _read_generated(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return {row["userPrincipalName"].lower(): row["password"] for row in csv.DictReader(fh)}


def _write_private(path: Path, rows: list[tuple[str, str]]) -> None:
    """Atomically write the hand-over file with mode 0600 whatever the umask."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["userPrincipalName", "password", "forceChangePasswordNextSignIn"])
    for upn, pw in rows:
        writer.writerow([upn, pw, "TRUE"])
    from ..writefile import write_text

    # The output-path rule (toolkit/writefile.py: regular files only, no links, no temp file left) and 0600
    # whatever the umask or the mode of a file it replaces: it holds passwords.
    write_text(path, buf.getvalue(), encoding="utf-8-sig", secret=True)


def attach_secrets(plan: Any, ops: list[Any], *, plan_path: str | os.PathLike[str] | None, what_if: bool) -> None:
    """Give every member create of a migration plan its password (see the module docstring)."""
    migration = plan.header.get("migration")
    if not migration:
        return
    default_mode = plan.header["options"].get("createAs", "invite")
    members = [op for op in ops if op.kind == "create" and op.create_as(default_mode) == "member"]
    from_file = [op for op in members if op.extra.get("password") == "file"]
    generated = [op for op in members if op.extra.get("password") != "file"]
    if from_file:
        passwords = _csv_passwords(migration, plan_path)
        for op in from_file:
            upn = str(op.attrs.get("userPrincipalName") or "").lower()
            if upn not in passwords:
                raise InputError(f"the CSV gives no password for {upn} although the plan expects one",
                                 source=migration["file"], hint="Plan the file again.")
            op.password = passwords[upn]
    if not generated or what_if:
        return
    if plan_path is None:
        raise InputError("a migration plan with generated passwords needs the plan's path: the passwords are "
                         "written next to it", field="plan_path", hint="Apply the plan file (apply_plan_file).")
    path = passwords_path(plan_path)
    known = _read_generated(path)
    rows = list(known.items())
    added = False
    for op in generated:
        upn = str(op.attrs.get("userPrincipalName") or "")
        pw = known.get(upn.lower())
        if pw is None:
            pw = generate_password((upn.split("@")[0], str(op.attrs.get("givenName") or ""),
                                    str(op.attrs.get("surname") or "")))
            rows.append((upn.lower(), pw))
            known[upn.lower()] = pw
            added = True
        op.password = pw
    if added:
        _write_private(path, rows)      # before anything is sent: a created user's password is never lost
