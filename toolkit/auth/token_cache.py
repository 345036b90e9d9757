"""The private token cache: where each profile's msal cache file lives, and reading and writing it.

``$CCSYNC_CACHE_DIR/<profile>-<key>.bin`` (default ``~/.cache/ccsync/tokens``), created 0600 in a 0700 folder;
a cache in a folder others can write to is refused. ``PersistentCache`` wraps msal's serializable cache and
writes it (atomically) only when msal changed it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import msal

from ..errors import ConfigError
from ..private import check_private_dir, make_private_dir, open_private_file

__all__ = ["token_cache_dir", "token_cache_path", "PersistentCache"]


def token_cache_dir() -> Path:
    """The token cache folder: ``$CCSYNC_CACHE_DIR``, else ``~/.cache/ccsync/tokens`` (the plan-signing key
    lives here too)."""
    root = os.environ.get("CCSYNC_CACHE_DIR")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "ccsync" / "tokens"


def token_cache_path(profile_name: str, authority: str | None = None, client_id: str | None = None) -> Path:
    """``$CCSYNC_CACHE_DIR/<profile>[-<key>].bin``, else under ``~/.cache/ccsync/tokens/``.

    The key (a short hash of authority and client id) keeps a profile that is re-pointed at another authority,
    such as a simulator on a new port, from picking up tokens that authority never issued.
    """
    folder = token_cache_dir()
    if authority or client_id:
        key = hashlib.sha256(f"{authority or ''}|{client_id or ''}".lower().encode()).hexdigest()[:10]
        return folder / f"{profile_name}-{key}.bin"
    return folder / f"{profile_name}.bin"


class PersistentCache:
    """msal's serializable cache, read once and written (0600, atomically) only when msal changed it."""

    def __init__(self, path: Path | None):
        self.path = path
        self.cache = msal.SerializableTokenCache()
        self._lock = threading.Lock()
        if path is not None and path.exists():
            # A cache in a folder others can write to could hold someone else's tokens: refuse it.
            check_private_dir(path.parent, what="token cache folder")
            try:
                self.cache.deserialize(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                # Only a cache: an unreadable or corrupt file means signing in again, not failing.
                self.cache = msal.SerializableTokenCache()

    def save(self) -> None:
        if self.path is None or not self.cache.has_state_changed:
            return
        with self._lock:
            try:
                self._write()
            except OSError as exc:
                raise ConfigError(f"Cannot write the token cache {self.path}: {exc.strerror or exc}.",
                                  hint="Make the folder writable, or point CCSYNC_CACHE_DIR at a private folder "
                                       "you own.") from None
            self.cache.has_state_changed = False

    def _write(self) -> None:
        assert self.path is not None
        folder = make_private_dir(self.path.parent, what="token cache folder")
        tmp = folder / f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = open_private_file(tmp)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.cache.serialize())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
