"""Opening a log file an admin hands in: its bytes (errors that name the file and say what to give instead) and
its text (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252, which is noted)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["read_bytes", "decode"]


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("This log file does not exist.", source=str(path),
                         hint="Check the path; give each file of the download.") from None
    except IsADirectoryError:
        raise InputError("This path is a folder, not a log file.", source=str(path),
                         hint="Give the files inside it (e.g. folder/*.json).") from None
    except OSError as exc:
        raise InputError(f"Cannot read this log file: {exc.strerror}.", source=str(path)) from exc


def decode(data: bytes, name: str, notes: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # The portal's CSV has no BOM; a file re-saved by Excel on Windows is often Windows-1252.
        notes.append(f"{name}: not UTF-8; read as Windows-1252.")
        return data.decode("cp1252", errors="replace")
