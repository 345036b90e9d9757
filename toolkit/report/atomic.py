"""Writing output files atomically: a temp file in the same folder, then ``os.replace``.

A crash, a full disk or a locked target never leaves a half-written report behind; the previous file, if any,
stays as it was. Errors become ``InputError`` naming the path and what to do.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError

__all__ = ["atomic_write", "check_target"]


def check_target(path: str | os.PathLike[str], suffix: str | None) -> Path:
    """The output path, after checking its folder exists, it is not a folder, and (for workbooks) its suffix."""
    target = Path(path).expanduser()
    if suffix and target.suffix.lower() != suffix:
        raise InputError(f"An Excel workbook must be named *{suffix}; got '{target.name}'.", source=str(target),
                         hint=f"Use a file name ending in {suffix} (Excel refuses a workbook whose extension "
                              "does not match its format).")
    if target.is_dir():
        raise InputError("This path is a folder, not a file.", source=str(target),
                         hint="Give a file name inside the folder.")
    if not target.parent.is_dir():
        raise InputError(f"The folder {target.parent} does not exist.", source=str(target),
                         hint="Create the folder first, or choose another output path.")
    return target


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


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], Any]) -> Path:
    """Call ``write(temp_path)`` then move the temp file over ``path``; on any failure remove the temp file.

    A file being replaced keeps its permissions; a new one gets the usual ones (the temp file is private).
    PermissionError (typically: the file is open in Excel on Windows) and other OS errors become InputError
    naming the path.
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except FileNotFoundError as exc:
        raise InputError(f"The folder {target.parent} does not exist.", source=str(target),
                         hint="Create the folder first, or choose another output path.") from exc
    except PermissionError as exc:
        raise InputError(f"No permission to create files in {target.parent}.", source=str(target),
                         hint="Choose a folder you can write to.") from exc
    os.close(fd)
    try:
        write(tmp)
        try:
            mode = target.stat().st_mode & 0o777
        except OSError:
            mode = _new_file_mode()
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except PermissionError as exc:
        _remove(tmp)
        raise InputError(f"Cannot write {target.name}: permission denied ({exc.strerror or exc}).",
                         source=str(target),
                         hint="If the file is open in Excel (or another program), close it and run again; "
                              "otherwise check you may write to that file and folder.") from exc
    except OSError as exc:
        _remove(tmp)
        raise InputError(f"Cannot write {target.name}: {exc.strerror or exc}.", source=str(target),
                         hint="Check the disk has space and the path is writable.") from exc
    except BaseException:
        _remove(tmp)
        raise
    return target


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
