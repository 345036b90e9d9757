"""Signing in with a profile: msal applications, credentials, and a private token cache per profile.

::

    provider = TokenProvider(profile)           # secret from $<secret_env>, else a hidden prompt (tty only)
    provider.token() -> str                     # from msal's cache while valid; raises AuthError/CredentialError
    provider.claims() -> dict                   # tid, appid, roles, scp, aud, exp ... (decoded, not verified)
    login(profile) -> LoginResult               # who the token says we are, for 'ccsync login'

Credentials: a client secret (the ``secret=`` argument, else the env var named by ``profile.secret_env``, else a
hidden prompt when stdin is a terminal), a certificate (PEM with key and certificate, or PFX/P12 whose password is
in the env var named by ``certificate_password_env``), or the device-code flow (an admin signs in elsewhere).

msal talks through ``toolkit.transport.make_session(profile.ca_bundle)`` so a profile's CA bundle (or, without one,
``REQUESTS_CA_BUNDLE``) decides TLS trust. With a ``login_url`` override (the simulator, a private endpoint) msal's
instance discovery is off, since Microsoft's discovery service cannot know that host; real clouds keep msal's
authority validation.

Tokens and secrets never enter a message, a repr or a log line from this module. The token cache lives at
``$CCSYNC_CACHE_DIR/<profile>.bin`` (default ``~/.cache/ccsync/tokens``), created 0600 in a 0700 folder.
"""

from __future__ import annotations

import base64
import getpass
import json
import hashlib
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from .config import Profile
from .errors import AuthError, ConfigError, CredentialError, TransportError
from .private import check_private_dir, make_private_dir, open_private_file
from .transport import make_session

__all__ = [
    "TokenProvider", "LoginResult", "login", "ClientCertificate", "load_certificate", "token_cache_path",
    "token_cache_dir",
    "decode_claims", "DEFAULT_TIMEOUT",
]

DEFAULT_TIMEOUT = 30.0          # seconds per HTTP request to the identity platform
_REFRESH_MARGIN = 300           # renew a token this many seconds before it expires
_CLAIM_KEYS = ("tid", "appid", "azp", "app_displayname", "roles", "scp", "aud", "iss", "oid", "idtyp", "upn",
               "preferred_username", "iat", "nbf", "exp")


# --- results ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginResult:
    """What a successful sign-in proved: which tenant and app the token is for and what it may do."""

    profile: str
    cloud: str
    tenant_id: str
    app_id: str
    roles: list[str]
    scopes: list[str]
    expires_on: datetime
    auth: str
    user: str | None = None      # the signed-in admin, for device-code sign-in
    fresh: bool = True           # the identity platform issued the token just now (the credentials were proved)
    issued_at: datetime | None = None   # the token's iat claim

    @property
    def age_seconds(self) -> int | None:
        """How old the token is (for a cached one: how long ago the credentials were last proved)."""
        if self.issued_at is None:
            return None
        return max(0, int((datetime.now(timezone.utc) - self.issued_at).total_seconds()))

    def to_dict(self) -> dict[str, Any]:
        out = {"profile": self.profile, "cloud": self.cloud, "tenantId": self.tenant_id, "appId": self.app_id,
               "roles": list(self.roles), "scopes": list(self.scopes),
               "expiresOn": self.expires_on.isoformat().replace("+00:00", "Z"), "auth": self.auth,
               "tokenSource": "identity platform" if self.fresh else "cache"}
        if self.issued_at is not None:
            out["issuedAt"] = self.issued_at.isoformat().replace("+00:00", "Z")
            out["tokenAgeSeconds"] = self.age_seconds
        if self.user:
            out["user"] = self.user
        return out


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


# --- certificates ---------------------------------------------------------------------------------------

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


# --- token cache ----------------------------------------------------------------------------------------

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


class _PersistentCache:
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


# --- msal plumbing --------------------------------------------------------------------------------------

class _MsalHttpClient:
    """Gives msal the ccsync session with a request timeout; closing it leaves the caller's session open."""

    def __init__(self, session: requests.Session, timeout: float):
        self.session = session
        self.timeout = timeout

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.post(url, **kwargs)

    def close(self) -> None:
        pass


def _default_device_code_callback(message: str) -> None:
    # The one place ccsync's library writes to stderr: the admin must see where to enter the code.
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


_HINTS: dict[str, str] = {
    "AADSTS7000215": "The client secret is wrong. Set {secret_env} to the secret's Value (not its Secret ID) from "
                     "the app registration's 'Certificates & secrets' page; create a new secret if it was lost.",
    "AADSTS7000222": "The client secret has expired. Create a new secret in the app registration (or use a "
                     "certificate) and set {secret_env} to it.",
    "AADSTS700027": "The certificate{thumbprint} is not registered on app {client_id}, or the assertion is "
                    "invalid: upload the public certificate to the app registration ('Certificates & secrets') "
                    "in the {cloud} tenant.",
    "AADSTS700024": "The client assertion's time range was refused: check this computer's clock.",
    "AADSTS700016": "App {client_id} does not exist in tenant {tenant}: check client_id and tenant in the "
                    "profile, that the app is registered or consented in that tenant, and that cloud = "
                    "\"{cloud}\" is the tenant's cloud (an app registered in one cloud does not exist in another).",
    "AADSTS90002": "The {cloud} login service does not know tenant {tenant}: check the tenant ID or domain, and "
                   "that cloud = \"{cloud}\" is the tenant's cloud (GCC High and DoD tenants live in Azure "
                   "Government, China tenants in 21Vianet).",
    "AADSTS500011": "The tenant has no {graph} resource, so the profile's cloud (\"{cloud}\") is not the tenant's "
                    "cloud: fix 'cloud' in the profile.",
    "AADSTS50059": "Set 'tenant' in the profile to the tenant ID or a verified domain, not common or organizations.",
    "AADSTS7000218": "The app needs a credential: use auth = \"secret\" or \"certificate\", or enable 'Allow "
                     "public client flows' in the app registration for device-code sign-in.",
    "AADSTS700025": "The app is a public client: use auth = \"device_code\", or register a secret or certificate.",
    "AADSTS65001": "The app lacks consent: an admin must grant admin consent for its Microsoft Graph permissions.",
    "AADSTS65004": "The sign-in was declined. Run the login again and accept.",
    "AADSTS70019": "The device code expired before the sign-in was finished. Run the login again and enter the code "
                   "within the time shown.",
    "AADSTS70018": "The device code was not recognised. Run the login again.",
    "AADSTS53003": "Conditional Access blocked the sign-in; ask the admins who own the policy.",
    "AADSTS50076": "Multi-factor authentication is required: use auth = \"device_code\" and complete MFA in the "
                   "browser.",
    "AADSTS700082": "The sign-in session expired. Run the login again.",
    "AADSTS1002012": "ccsync requests {scope}; the login service refused that scope. Check the profile's cloud.",
    "AADSTS70011": "ccsync requests {scope}; the login service refused that scope. Check the profile's cloud.",
}


def _first_line(text: str) -> str:
    # Entra appends "Trace ID / Correlation ID / Timestamp" lines: useful to support, noise to an admin.
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _auth_error(result: Mapping[str, Any], profile: Profile, *, secrets: list[str],
                thumbprint: str | None = None) -> AuthError:
    codes = result.get("error_codes") or []
    code = f"AADSTS{codes[0]}" if codes else None
    line = _first_line(str(result.get("error_description") or "")) or str(result.get("error") or "unknown error")
    message = _scrub(f"Sign-in for profile '{profile.name}' ({profile.cloud}, tenant {profile.tenant}, app "
                     f"{profile.client_id}) was refused: {line}", secrets)
    template = _HINTS.get(code or "") or _HINTS.get(str(result.get("error") or ""))
    if template is None and result.get("error") == "expired_token":
        template = _HINTS["AADSTS70019"]
    hint = template.format(secret_env=profile.secret_env, client_id=profile.client_id, tenant=profile.tenant,
                           cloud=profile.cloud, graph=profile.cloud_obj.graph_url, scope=profile.scope,
                           thumbprint=f" (thumbprint {thumbprint})" if thumbprint else "") if template else None
    return AuthError(message, hint=hint, error_code=code or (str(result["error"]) if result.get("error") else None),
                     correlation_id=result.get("correlation_id"))


_ERROR_BODY = re.compile(r"Error: (\{.*\})", re.S)


def _discovery_error(exc: BaseException, profile: Profile, secrets: list[str]) -> AuthError:
    """msal's ValueError from reading the OpenID configuration; the server's error body is in its context."""
    seen: BaseException | None = exc
    while seen is not None:
        match = _ERROR_BODY.search(str(seen))
        if match:
            try:
                body = json.loads(match.group(1))
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("error"):
                return _auth_error(body, profile, secrets=secrets)
        seen = seen.__context__ or seen.__cause__
    return AuthError(f"Could not read the OpenID configuration of {profile.authority} for profile "
                     f"'{profile.name}'.",
                     hint="Check the profile's tenant and cloud (and login_url, if set).")


def _transport_error(exc: requests.exceptions.RequestException, profile: Profile) -> TransportError:
    url = getattr(getattr(exc, "request", None), "url", None) or profile.authority
    method = getattr(getattr(exc, "request", None), "method", None)
    if isinstance(exc, requests.exceptions.SSLError):
        trust = (f"the profile's ca_bundle {profile.ca_bundle}" if profile.ca_bundle else
                 f"REQUESTS_CA_BUNDLE={os.environ['REQUESTS_CA_BUNDLE']}" if os.environ.get("REQUESTS_CA_BUNDLE")
                 else "the system's CA certificates")
        return TransportError(f"TLS verification failed talking to the login service for profile "
                              f"'{profile.name}' (trusting {trust}).",
                              hint="Behind a TLS-inspecting proxy, point REQUESTS_CA_BUNDLE (or the profile's "
                                   "ca_bundle) at a PEM file with the proxy's CA; for the simulator use the CA file "
                                   "it wrote.", method=method, url=url)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return TransportError(f"The login service answered HTTP {exc.response.status_code} for profile "
                              f"'{profile.name}'.", hint="Try again later.", method=method, url=url)
    kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "could not be reached"
    return TransportError(f"The login service {kind} for profile '{profile.name}'.",
                          hint="Check the network, proxy settings (HTTPS_PROXY) and the profile's login_url.",
                          method=method, url=url)


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying it (for showing what a token grants)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError("The access token is not a JWT, so its claims cannot be shown.")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except ValueError:
        raise AuthError("The access token's claims could not be decoded.") from None
    if not isinstance(claims, dict):
        raise AuthError("The access token's claims could not be decoded.")
    return claims


# --- the provider ---------------------------------------------------------------------------------------

class TokenProvider:
    """Access tokens for one profile's Graph, from msal's cache while valid, else from the identity platform.

    Thread-safe: one sign-in at a time, concurrent callers share its result.
    """

    def __init__(self, profile: Profile, session: requests.Session | None = None, secret: str | None = None,
                 prompt: bool = True, device_code_callback: Callable[[str], None] | None = None, *,
                 cache_path: str | os.PathLike[str] | None = None, persist_cache: bool = True,
                 timeout: float = DEFAULT_TIMEOUT):
        self.profile = profile
        self.prompt = prompt
        self.timeout = timeout
        self._session = session
        self._secret = secret
        self._device_code_callback = device_code_callback
        path = Path(cache_path) if cache_path is not None else token_cache_path(profile.name, profile.authority, profile.client_id)
        self._cache = _PersistentCache(path if persist_cache else None)
        self._lock = threading.RLock()
        self._app: msal.ClientApplication | None = None
        self._certificate: ClientCertificate | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self.token_source: str | None = None     # "cache" or "identity_provider", after the first token

    def __repr__(self) -> str:
        return f"TokenProvider(profile={self.profile.name!r}, cloud={self.profile.cloud!r}, auth={self.profile.auth!r})"

    @property
    def cache_path(self) -> Path | None:
        return self._cache.path

    @property
    def expires_on(self) -> datetime | None:
        """When the current token expires (None before the first token)."""
        return datetime.fromtimestamp(self._expires_at, timezone.utc) if self._token else None

    def token(self) -> str:
        """A valid access token for ``profile.scope``; raises AuthError, CredentialError or TransportError."""
        with self._lock:
            if self._token and self._expires_at - _REFRESH_MARGIN > time.time():
                return self._token
            result = self._acquire()
            # msal says whether the token came from its cache or from the identity platform.
            self.token_source = str(result.get("token_source") or "identity_provider")
            self._token = result["access_token"]
            self._expires_at = time.time() + float(result.get("expires_in") or 0)
            return self._token

    def claims(self) -> dict[str, Any]:
        """Selected claims of the current token (tid, appid, roles, scp, aud, exp, ...), decoded unverified."""
        claims = decode_claims(self.token())
        return {k: claims[k] for k in _CLAIM_KEYS if k in claims}

    def invalidate(self) -> None:
        """Forget this app's cached access tokens (e.g. after Graph refused one), so the next call signs in."""
        with self._lock:
            self._token, self._expires_at = None, 0.0
            cache = self._cache.cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN,
                                          query={"client_id": self.profile.client_id})):
                cache.remove_at(item)
            self._cache.save()

    # -- internals --

    def _secrets(self) -> list[str]:
        return [s for s in (self._secret,) if s]

    def _acquire(self) -> dict[str, Any]:
        profile = self.profile
        try:
            app = self._application()
            scopes = [profile.scope]
            if profile.auth == "device_code":
                result = self._acquire_device_code(app, scopes)
            else:
                result = app.acquire_token_for_client(scopes=scopes)
        except requests.exceptions.RequestException as exc:
            raise _transport_error(exc, profile) from None
        except OSError as exc:
            # requests raises a bare OSError when the CA bundle path does not exist.
            if "CA certificate bundle" not in str(exc):
                raise
            raise ConfigError(f"Profile '{profile.name}': cannot use the CA bundle "
                              f"{profile.ca_bundle or os.environ.get('REQUESTS_CA_BUNDLE')}: {exc}",
                              hint="Fix 'ca_bundle' in the profile (or REQUESTS_CA_BUNDLE).") from None
        finally:
            self._cache.save()
        if not result or "access_token" not in result:
            raise _auth_error(result or {}, profile, secrets=self._secrets(),
                              thumbprint=self._certificate.thumbprint if self._certificate else None)
        return result

    def _application(self) -> msal.ClientApplication:
        if self._app is not None:
            return self._app
        profile = self.profile
        credential = None if profile.auth == "device_code" else self._credential()
        session = self._session if self._session is not None else make_session(profile.ca_bundle)
        kwargs: dict[str, Any] = {"authority": profile.authority, "token_cache": self._cache.cache,
                                  "http_client": _MsalHttpClient(session, self.timeout)}
        if profile.login_url:
            # Microsoft's instance discovery cannot vouch for an override host; real clouds keep validation.
            kwargs["instance_discovery"] = False
        try:
            if credential is None:
                self._app = msal.PublicClientApplication(profile.client_id, **kwargs)
            else:
                self._app = msal.ConfidentialClientApplication(profile.client_id, client_credential=credential,
                                                               **kwargs)
        except requests.exceptions.RequestException:
            raise
        except ValueError as exc:
            raise _discovery_error(exc, profile, self._secrets()) from None
        return self._app

    def _credential(self) -> str | dict[str, str]:
        profile = self.profile
        if profile.auth == "certificate":
            if not profile.certificate:
                raise CredentialError(f"Profile '{profile.name}' uses auth = \"certificate\" but names no "
                                      f"certificate file.", hint='Add certificate = "/path/to/ccsync.pem".')
            env = profile.certificate_password_env
            password = os.environ.get(env) if env else None
            self._certificate = load_certificate(profile.certificate, password, password_env=env)
            return self._certificate.msal_credential()
        if self._secret:
            return self._secret
        from_env = os.environ.get(profile.secret_env)
        if from_env:
            self._secret = from_env
            return from_env
        if self.prompt and sys.stdin is not None and sys.stdin.isatty():
            entered = getpass.getpass(f"Client secret for profile '{profile.name}' (app {profile.client_id}): ")
            if entered:
                self._secret = entered
                return entered
        raise CredentialError(f"No client secret for profile '{profile.name}': the environment variable "
                              f"{profile.secret_env} is not set.",
                              hint=f"Set {profile.secret_env} to the app's client secret value, or use "
                                   f"auth = \"certificate\". Never put the secret in the config file or on the "
                                   f"command line.")

    def _acquire_device_code(self, app: msal.ClientApplication, scopes: list[str]) -> dict[str, Any]:
        assert isinstance(app, msal.PublicClientApplication)
        for account in app.get_accounts():
            result = app.acquire_token_silent_with_error(scopes, account=account)
            if result and "access_token" in result:
                return result
        if not (self.prompt or self._device_code_callback):
            raise CredentialError(f"Profile '{self.profile.name}' signs in with a device code and has no cached "
                                  f"token.", hint=f"Run 'ccsync login --profile {self.profile.name}' "
                                                  f"interactively first.")
        flow = app.initiate_device_flow(scopes=scopes)
        if "user_code" not in flow:
            return flow  # an error dict; _acquire turns it into AuthError
        (self._device_code_callback or _default_device_code_callback)(flow["message"])
        return app.acquire_token_by_device_flow(flow)


def login(profile: Profile, secret: str | None = None, *, session: requests.Session | None = None,
          prompt: bool = True, device_code_callback: Callable[[str], None] | None = None,
          provider: TokenProvider | None = None, use_cache: bool = False) -> LoginResult:
    """Sign in with ``profile`` and report the tenant, app, roles and expiry the token carries.

    An explicit login proves the credentials: cached access tokens are dropped first, so the identity platform
    checks the secret or certificate now (a wrong or expired secret fails here, not in a night run). With
    ``use_cache`` a cached token is accepted, and the result says so (``fresh`` False) with its age.
    """
    provider = provider or TokenProvider(profile, session=session, secret=secret, prompt=prompt,
                                         device_code_callback=device_code_callback)
    if not use_cache:
        provider.invalidate()
    claims = provider.claims()
    iat = claims.get("iat")
    exp = claims.get("exp")
    expires_on = (datetime.fromtimestamp(float(exp), timezone.utc) if exp is not None
                  else provider.expires_on or datetime.now(timezone.utc))
    roles = claims.get("roles") or []
    return LoginResult(profile=profile.name, cloud=profile.cloud, tenant_id=str(claims.get("tid") or ""),
                       app_id=str(claims.get("appid") or claims.get("azp") or profile.client_id),
                       roles=sorted(str(r) for r in roles), scopes=str(claims.get("scp") or "").split(),
                       expires_on=expires_on, auth=profile.auth,
                       user=claims.get("upn") or claims.get("preferred_username"),
                       fresh=provider.token_source != "cache",
                       issued_at=datetime.fromtimestamp(float(iat), timezone.utc) if iat is not None else None)
