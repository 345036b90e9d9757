"""The one rule for every file ccsync writes: checked path, temp file in the same folder, ``os.replace``.

Every output writer of the project goes through here (plans, snapshots' folders, workbooks, CSVs, apply results,
the journal's file, demo outputs), so the rule is written once:

* **Only regular files are replaced.** A device (``/dev/full``), a FIFO, a socket or a folder at the output
  path is refused with an ``InputError`` naming it: an atomic replace would silently swap it for a regular file
  (as root, even ``/dev/null``).
* **Symbolic links are refused**, dangling or not. Replacing a link would cut it (the file it points to keeps its
  old content, which is not what the admin meant); writing through it would let anyone who can create a link
  in a shared folder redirect a plan or report onto another file the admin may write. The message names the
  link and its target so the admin can give the real path. Links in the *folders* of the path are followed.
* **Failures are errors, never leftovers.** A full disk (ENOSPC), a read-only or immutable folder or file
  (EROFS, EPERM), a permission error (EACCES) become an ``InputError`` naming the path and what to do; the temp
  file is removed in a ``finally`` whatever happened (an exception, Ctrl-C), and a file being replaced keeps
  its previous content.
* **New files are private (0600)** by default: nearly everything ccsync writes names users (plans, journals,
  results, reports, snapshots). A file that is replaced keeps its permissions, so an admin who shared a report
  on purpose keeps it shared. ``private=False`` gives a new file the usual umask-based mode (for files that name
  nobody, such as the licence catalog or the simulator's profiles). ``secret=True`` (a migration's passwords
  file) makes the file 0600 even when it replaces one that others could read.

Public functions: ``check_target`` and ``atomic_write`` (their original signatures still work), ``write_text``
and ``write_bytes`` for whole files, ``check_output_path`` for a path alone, ``check_output_dir`` for a folder
about to be replaced (snapshots), and ``output_error`` to turn an ``OSError`` into the same ``InputError``.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable

from .errors import InputError
from .private import PRIVATE_FILE_MODE

__all__ = ["atomic_write", "check_target", "check_output_path", "check_output_dir", "write_text", "write_bytes",
           "output_error"]

_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"))


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """The output path, refused (InputError) when something other than a regular file or nothing is there."""
    target = Path(path).expanduser()
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise output_error(exc, target) from exc
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{target} is a symbolic link (to {os.readlink(target)}); ccsync does not write through "
                         "links or replace them.", source=str(target),
                         hint="Give the real path of the file (for example the output of 'readlink -f').")
    if stat.S_ISDIR(st.st_mode):
        raise InputError("This path is a folder, not a file.", source=str(target),
                         hint="Give a file name inside the folder.")
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise InputError(f"{target} is {kind}, not a regular file; ccsync only replaces regular files.",
                             source=str(target), hint="Choose an ordinary file name for the output.")
    return target


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """A folder ccsync is about to create or replace as a whole (a snapshot): refused when it is a link or
    anything but a folder."""
    target = Path(path).expanduser()
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise output_error(exc, target) from exc
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{target} is a symbolic link (to {os.readlink(target)}); ccsync does not replace links.",
                         source=str(target), hint="Give the real path of the folder.")
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{target} exists and is not a folder.", source=str(target),
                         hint="Choose another --out folder.")
    return target


def check_target(path: str | os.PathLike[str], suffix: str | None) -> Path:
    """The output path, after checking its folder exists, it is a regular file or absent, and its suffix."""
    target = Path(path).expanduser()
    if suffix and target.suffix.lower() != suffix:
        raise InputError(f"An Excel workbook must be named *{suffix}; got '{target.name}'.", source=str(target),
                         hint=f"Use a file name ending in {suffix} (Excel refuses a workbook whose extension "
                              "does not match its format).")
    check_output_path(target)
    if not target.parent.is_dir():
        raise InputError(f"The folder {target.parent} does not exist.", source=str(target),
                         hint="Create the folder first, or choose another output path.")
    return target


def output_error(exc: OSError, target: str | os.PathLike[str]) -> InputError:
    """An OSError met while writing ``target`` as an InputError that names the path and what to do."""
    target = Path(target)
    reason = exc.strerror or str(exc)
    code = exc.errno
    if code == errno.ENOSPC or code == getattr(errno, "EDQUOT", -1):
        hint = "The disk (or your quota) is full: free some space or choose another folder."
    elif code == errno.EROFS:
        hint = "The file system is read-only: choose a folder on a writable disk."
    elif code in (errno.EACCES, errno.EPERM):
        hint = ("If the file is open in Excel (or another program), close it and run again; otherwise check you "
                "may write to that file and folder (an immutable file or folder, chattr +i, refuses even root).")
    elif code == errno.ENOENT:
        hint = "Create the folder first, or choose another output path."
    else:
        hint = "Check the disk has space and the path is writable."
    return InputError(f"Cannot write {target.name}: {reason}.", source=str(target), hint=hint)


def _new_file_mode() -> int | None:
    """The permission bits an ordinary new file would get (0666 minus the umask), read without changing it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return None


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], Any], *, private: bool = True,
                 secret: bool = False) -> Path:
    """Call ``write(temp_path)`` then move the temp file over ``path``; the temp file never outlives the call.

    ``path`` must be a regular file or absent (see the module docstring for links and devices). A replaced file
    keeps its permissions; a new one is 0600 (``private``) or gets the umask's usual mode; with ``secret`` the
    file is 0600 whatever was there. OS errors become InputError naming the path.
    """
    target = check_output_path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except FileNotFoundError as exc:
        raise InputError(f"The folder {target.parent} does not exist.", source=str(target),
                         hint="Create the folder first, or choose another output path.") from exc
    except OSError as exc:
        raise output_error(exc, target) from exc
    os.close(fd)
    replaced = False
    try:
        write(tmp)
        try:
            st = os.stat(target)
            mode: int | None = st.st_mode & 0o777 if stat.S_ISREG(st.st_mode) else PRIVATE_FILE_MODE
        except FileNotFoundError:
            mode = PRIVATE_FILE_MODE if private else _new_file_mode()
        if secret:
            mode = PRIVATE_FILE_MODE
        if mode is not None:
            os.chmod(tmp, mode)
        check_output_path(target)          # still a regular file or nothing, just before the swap
        os.replace(tmp, target)
        replaced = True
    except OSError as exc:
        raise output_error(exc, target) from exc
    finally:
        if not replaced:
            _remove(tmp)
    return target


def write_bytes(path: str | os.PathLike[str], data: bytes, *, private: bool = True, secret: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return atomic_write(path, write, private=private, secret=secret)


def write_text(path: str | os.PathLike[str], text: str, *, private: bool = True, encoding: str = "utf-8",
               secret: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically, ``\\n`` line ends (see ``atomic_write``)."""
    return write_bytes(path, text.encode(encoding), private=private, secret=secret)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
