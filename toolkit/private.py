"""Private folders and files: created 0700 / 0600 whatever the umask, and refused when others can write to them.

One rule for every place ccsync keeps something that must stay the admin's own: the token cache, the plan-signing
key, and output files that name users (plans, journals, results, reports). Modes are given to ``os.open`` /
``os.mkdir`` *and* set again with ``chmod``, because the umask can only take bits away and a umask of 000 must
not leave a folder 0777 either.

A folder others can write to (group- or world-writable, or owned by another user) is refused rather than used:
anyone who can write there could replace a token cache or a signing key with their own. Windows has no POSIX
modes; there the checks are skipped and the files inherit the folder's ACL (the user profile is private).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError

__all__ = ["make_private_dir", "check_private_dir", "open_private_file", "PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE"]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_POSIX = os.name == "posix"


def make_private_dir(path: str | os.PathLike[str], *, what: str = "private folder") -> Path:
    """Create ``path`` (and missing parents) mode 0700 whatever the umask; check an existing one is private.

    Returns the folder. Raises ConfigError naming the folder when it exists but others can write to it.
    """
    folder = Path(path).expanduser()
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for part in reversed(missing):
        try:
            os.mkdir(part, PRIVATE_DIR_MODE)
        except FileExistsError:
            pass                                   # another process made it meanwhile; checked below
        except OSError as exc:
            raise ConfigError(f"Cannot create the {what} {part}: {exc.strerror or exc}.",
                              hint="Create it yourself (mode 0700) or choose another location.") from None
        if _POSIX:
            os.chmod(part, PRIVATE_DIR_MODE)
    check_private_dir(folder, what=what)
    return folder


def check_private_dir(path: str | os.PathLike[str], *, what: str = "private folder") -> None:
    """Refuse a folder that is not a folder, that another user owns, or that others can write to."""
    folder = Path(path)
    try:
        st = os.stat(folder)
    except OSError as exc:
        raise ConfigError(f"Cannot use the {what} {folder}: {exc.strerror or exc}.",
                          hint="Check the path.") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"The {what} {folder} is not a folder.", hint="Remove it or choose another location.")
    if not _POSIX:
        return
    if st.st_uid != os.geteuid():
        raise ConfigError(f"The {what} {folder} belongs to another user (uid {st.st_uid}).",
                          hint="Use a folder you own, e.g. unset CCSYNC_CACHE_DIR to use ~/.cache/ccsync/tokens.")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"The {what} {folder} can be written by other users (mode {st.st_mode & 0o777:04o}); "
                          "ccsync does not keep tokens or keys where others could replace them.",
                          hint=f"Make it private: chmod 700 '{folder}' (or point CCSYNC_CACHE_DIR at a private "
                               "folder).")


def open_private_file(path: str | os.PathLike[str], flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open`` with mode 0600, then ``fchmod`` to 0600 (the umask cannot widen it; this narrows an old file)."""
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE_MODE)
    if _POSIX:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
        except OSError:
            os.close(fd)
            raise
    return fd
