"""Tamper evidence for plans that travel between people: an HMAC-SHA256 with a per-user key.

What each check proves (README "Security and untrusted input" says the same):

* The **integrity hash** (``integrity.digest``, SHA-256 of the canonical JSON) proves only that the file is
  internally consistent: it catches accidental damage and naive edits. Anyone who edits a plan can recompute it;
  it proves nothing about *who* wrote the plan.
* The **signature** (``signature.value``, HMAC-SHA256 over the integrity digest with a 256-bit key) proves that
  the plan was written by a ccsync run that holds the key: on this account, with this key file. ``ccsync plan``
  signs; ``ccsync apply`` refuses a plan that is unsigned, signed with another key (``keyId`` differs), or
  changed after it was signed, unless the admin passes ``--trust-unsigned-plan`` after reviewing it.
  It does not prove the plan is *right* (review it), it does not protect against someone who can read your key
  file (same account, root, a backup), and it does not bind a plan to a date: a signed plan stays valid until
  the key changes. Whatever the signature says, apply validates the schema and re-checks at write time that it
  only writes to users it created or that are linked to the plan's source (``toolkit.apply.guard``).

The key lives in ``plan-signing.key`` in the token cache folder (``$CCSYNC_CACHE_DIR``, else
``~/.cache/ccsync/tokens``): created on first use, 0600 in a 0700 folder (``toolkit.private``). Delete it to
invalidate every plan signed with it. ``keyId`` (the first 16 hex digits of SHA-256 of the key) names the key
without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, InputError
from ..private import make_private_dir, open_private_file

__all__ = ["KEY_FILE", "key_path", "signing_key", "key_id", "signature_for", "check_signature", "SignatureCheck",
           "ALGORITHM"]

KEY_FILE = "plan-signing.key"
ALGORITHM = "hmac-sha256"
_CONTEXT = b"ccsync-plan-signature/1:"


def key_path() -> Path:
    from ..auth import token_cache_dir

    return token_cache_dir() / KEY_FILE


def signing_key(*, create: bool = True) -> bytes | None:
    """This user's plan-signing key (created on first use when ``create``); None when absent and not created."""
    path = key_path()
    if not path.exists() and not create:
        return None
    make_private_dir(path.parent, what="token cache folder")
    if not path.exists():
        try:
            fd = open_private_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            fd = None                                   # another ccsync made it meanwhile: use that one
        if fd is not None:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode) or (os.name == "posix" and (st.st_mode & 0o077 or st.st_uid != os.geteuid())):
        raise ConfigError(f"The plan-signing key {path} is not a private file of yours (mode "
                          f"{st.st_mode & 0o777:04o}).", hint=f"Delete it (a new key is made on the next plan) or "
                                                             f"chmod 600 '{path}'.")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise ConfigError(f"The plan-signing key {path} is damaged.",
                          hint="Delete it; a new key is made on the next 'ccsync plan' (plans signed with the old "
                               "key then need --trust-unsigned-plan).")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def signature_for(digest: str, key: bytes) -> dict[str, str]:
    """The ``signature`` object of a plan whose integrity digest is ``digest``."""
    mac = hmac.new(key, _CONTEXT + digest.encode("ascii"), hashlib.sha256).hexdigest()
    return {"algorithm": ALGORITHM, "keyId": key_id(key), "value": mac}


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking a plan's signature: ``status`` is valid, unsigned, other-key or changed."""

    status: str
    key_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    def describe(self) -> str:
        return {"valid": "signed with your key",
                "unsigned": "not signed",
                "other-key": f"signed with another key (keyId {self.key_id}), not yours",
                "changed": "changed after it was signed (the signature does not match)"}[self.status]


def check_signature(signature: object, digest: str, source: str, *, trust_unsigned: bool = False) -> SignatureCheck:
    """Check a loaded plan's signature against this user's key. Anything but a valid signature is an InputError
    unless ``trust_unsigned`` (the admin reviewed the plan and says so); the result says what was found."""
    key = signing_key(create=False)
    if not isinstance(signature, dict) or not signature.get("value"):
        result = SignatureCheck("unsigned")
    elif signature.get("algorithm") != ALGORITHM or key is None or signature.get("keyId") != key_id(key):
        result = SignatureCheck("other-key", str(signature.get("keyId"))[:32])
    elif not hmac.compare_digest(str(signature.get("value")), signature_for(digest, key)["value"]):
        result = SignatureCheck("changed", key_id(key))
    else:
        result = SignatureCheck("valid", key_id(key))
    if not result.valid and not trust_unsigned:
        raise InputError(f"the plan is {result.describe()}; ccsync applies only plans it signed with your key",
                         source=source, field="signature",
                         hint="Review the plan (ccsync plan ... --report, or the file itself); if it is right, run "
                              "apply again with --trust-unsigned-plan, or make the plan yourself with 'ccsync plan'.")
    return result
