"""Certificate credentials: reading a PEM (key + certificate) or PFX/P12 file and checking it can sign in today.

``load_certificate(path, password)`` -> ``ClientCertificate`` (thumbprint, subject, validity, the key as PEM for
msal; the key never shows in a repr). Every failure is a CredentialError naming the file and the fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import CredentialError

__all__ = ["ClientCertificate", "load_certificate"]


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate credential ready for msal; the private key never shows in repr."""

    path: str
    thumbprint: str                 # SHA-1, upper-case hex: what the portal shows and the assertion's x5t
    subject: str
    not_before: datetime
    not_after: datetime
    private_key_pem: str = field(repr=False)

    def msal_credential(self) -> dict[str, str]:
        # SHA-1 thumbprint => msal signs an RS256 assertion with header x5t, which every Entra cloud accepts.
        return {"private_key": self.private_key_pem, "thumbprint": self.thumbprint}


_KEY_BLOCK = re.compile(rb"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----.+?"
                        rb"-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----", re.S)
_PASSWORD_HINT_NO_ENV = ("Set certificate_password_env in the profile to the NAME of an environment variable, and "
                         "put the password in that variable.")


def _password_hint(password_env: str | None) -> str:
    if password_env:
        state = "is set" if os.environ.get(password_env) else "is not set"
        return f"Put the certificate's password in the environment variable {password_env} (it {state} now)."
    return _PASSWORD_HINT_NO_ENV


def load_certificate(path: str | os.PathLike[str], password: str | None = None, *,
                     password_env: str | None = None, now: datetime | None = None) -> ClientCertificate:
    """Read a PEM (private key + certificate) or PFX/P12 file and check it can sign in today.

    Raises CredentialError naming the file for: unreadable file, missing key or certificate, wrong or missing
    password, a non-RSA key, a key that does not belong to the certificate, or a certificate outside its
    validity period. ``password_env`` only names the variable in messages.
    """
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CredentialError(f"Cannot read the certificate file {file}: {exc.strerror or exc}.",
                              hint="Fix the profile's 'certificate' path; the file must hold the private key and "
                                   "the certificate (PEM), or be a .pfx/.p12 file.") from None
    pw = password.encode("utf-8") if password else None
    if b"-----BEGIN" in data:
        key, cert = _from_pem(file, data, pw, password_env)
    else:
        key, cert = _from_pfx(file, data, pw, password_env)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialError(f"The private key in {file} is not an RSA key.",
                              hint="Entra app certificates must use RSA keys (2048 bits or more).")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise CredentialError(f"The private key in {file} does not belong to its certificate.",
                              hint="Put the matching key and certificate into one file, e.g. "
                                   "cat ccsync.key ccsync.crt > ccsync.pem.")
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's x5t is SHA-1
    moment = now or datetime.now(timezone.utc)
    renew = ("Create a new certificate, upload its public part to the app registration (Certificates & secrets) "
             "and point the profile's 'certificate' at the new file.")
    if moment > cert.not_valid_after_utc:
        raise CredentialError(f"The certificate in {file} (thumbprint {thumbprint}) expired on "
                              f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC.", hint=renew)
    if moment < cert.not_valid_before_utc:
        raise CredentialError(f"The certificate in {file} (thumbprint {thumbprint}) is not valid before "
                              f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC.",
                              hint="Check this computer's clock, or wait until the certificate becomes valid.")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    return ClientCertificate(str(file), thumbprint, cert.subject.rfc4514_string(), cert.not_valid_before_utc,
                             cert.not_valid_after_utc, pem)


def _from_pem(file: Path, data: bytes, pw: bytes | None, password_env: str | None):
    block = _KEY_BLOCK.search(data)
    if block is None:
        raise CredentialError(f"{file} contains no private key.",
                              hint="The PEM file must hold the private key and the certificate, e.g. "
                                   "cat ccsync.key ccsync.crt > ccsync.pem, or use the .pfx file.")
    try:
        key = serialization.load_pem_private_key(block.group(0), password=pw)
    except TypeError:
        if pw is None:
            raise CredentialError(f"The private key in {file} is encrypted and no password was given.",
                                  hint=_password_hint(password_env)) from None
        key = serialization.load_pem_private_key(block.group(0), password=None)  # not encrypted after all
    except ValueError:
        raise CredentialError(f"Cannot decrypt the private key in {file}: wrong password or damaged key.",
                              hint=_password_hint(password_env)) from None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise CredentialError(f"{file} contains no certificate.",
                              hint="Append the certificate to the key file: cat ccsync.key ccsync.crt > ccsync.pem.")
    public = key.public_key().public_numbers() if isinstance(key, rsa.RSAPrivateKey) else None
    cert = next((c for c in certs if public is not None and c.public_key().public_numbers() == public), certs[0])
    return key, cert


def _from_pfx(file: Path, data: bytes, pw: bytes | None, password_env: str | None):
    attempts = [pw] if pw is not None else [None, b""]  # unprotected PFX files use either form
    for attempt in attempts:
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(data, attempt)
            break
        except ValueError:
            continue
    else:
        raise CredentialError(f"Cannot open {file}: wrong password, or not a PFX/P12 or PEM file.",
                              hint=_password_hint(password_env)) from None
    if key is None or cert is None:
        raise CredentialError(f"{file} does not contain both a private key and a certificate.",
                              hint="Export the PFX with its private key.")
    return key, cert
