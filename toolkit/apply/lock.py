"""One apply per plan at a time: an exclusive lock held for the whole run.

The lock is ``fcntl.flock`` on ``<journal>.lock`` beside the journal (Windows: ``msvcrt.locking``). The kernel
releases it when the holder exits, however it exits (SIGKILL, power loss aside), so a lock can never be left
held by a dead process. The file also records who holds it (process id, start time, host), written after the
lock is taken and cleared on release:

* a second ``ccsync apply`` of the same plan (a scheduler and a person, two terminals) cannot take the lock and
  stops with ``BusyError`` (exit 1), naming the other process id and its start time;
* a run that finds the lock free but the file still naming a process (that process died without releasing
  it: SIGKILL, a crash) takes it over and says so, then continues as a resume would.

The holder removes the lock file when it releases it (while still holding the lock); a run that locked a file
which was meanwhile removed or replaced checks the inode and tries again, so two runs can never hold locks on
two different files. A file left behind therefore means its holder died. It is 0600 and names no user.
What-if runs take no lock (they write nothing).
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import BusyError
from ..private import open_private_file

__all__ = ["ApplyLock", "lock_path"]

try:                                  # POSIX
    import fcntl
except ImportError:                   # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def lock_path(journal_path: str | os.PathLike[str]) -> Path:
    return Path(str(journal_path) + ".lock")


class ApplyLock:
    """``with ApplyLock(journal_path) as lock: ...``; ``lock.took_over`` describes a dead holder, if any."""

    def __init__(self, journal_path: str | os.PathLike[str]):
        self.path = lock_path(journal_path)
        self.fd: int | None = None
        self.took_over: str | None = None

    def acquire(self) -> "ApplyLock":
        from ..writefile import check_output_path, output_error

        for _ in range(50):
            check_output_path(self.path)
            try:
                fd = open_private_file(self.path, os.O_RDWR | os.O_CREAT)
            except OSError as exc:
                raise output_error(exc, self.path) from exc
            locked = _try_lock(fd)
            if locked and not _same_file(fd, self.path):
                _unlock(fd)                    # its holder removed it after we opened it: lock the new one
                os.close(fd)
                continue
            break
        if not locked:
            holder = _read(fd)
            os.close(fd)
            pid, started = holder.get("pid"), holder.get("startedAt")
            who = f"process {pid}" if pid else "another process"
            where = f" on {holder['host']}" if holder.get("host") and holder.get("host") != socket.gethostname() else ""
            raise BusyError(f"another apply of this plan is running: {who}{where}, started {started or 'at an unknown time'}; "
                            "nothing was written", pid=pid if isinstance(pid, int) else None, started=started,
                            hint="Wait for it to finish (or stop it with Ctrl-C), then run again with --resume if it "
                                 "was interrupted.")
        previous = _read(fd)
        if previous.get("pid"):
            self.took_over = (f"took over the apply lock of process {previous['pid']} (started "
                              f"{previous.get('startedAt') or '?'}), which is no longer running")
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "startedAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)             # lseek + write: os.pwrite does not exist on Windows
        os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if _same_file(self.fd, self.path):
                os.unlink(self.path)            # still holding it: nobody can lock this file after us
        except OSError:
            pass
        finally:
            _unlock(self.fd)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "ApplyLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _try_lock(fd: int) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    import msvcrt  # pragma: no cover - Windows
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:  # pragma: no cover - Windows
        import msvcrt
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _read(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        value = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
