"""Connection profiles: one named (cloud, tenant, app) per TOML table, never with a secret in the file.

The file is ``$CCSYNC_CONFIG``, else ``%APPDATA%\\ccsync\\config.toml`` on Windows, else
``~/.config/ccsync/config.toml``::

    [profiles.contoso]
    cloud = "commercial"                 # commercial | gcc | gcch | dod | china (aliases accepted)
    tenant = "contoso.onmicrosoft.com"   # tenant ID or verified domain
    client_id = "00000000-0000-0000-0000-000000000000"
    auth = "secret"                      # secret | certificate | device_code (default: secret)
    secret_env = "CCSYNC_CONTOSO_SECRET" # default CCSYNC_CLIENT_SECRET
    certificate = "~/certs/ccsync.pem"   # PEM (key + cert) or .pfx/.p12; required for auth = "certificate"
    certificate_password_env = "CCSYNC_CERT_PASSWORD"
    login_url = "https://127.0.0.1:8443" # endpoint overrides: the simulator or a private endpoint
    graph_url = "https://127.0.0.1:8443"
    ca_bundle = "/path/to/ca.pem"

Relative ``certificate`` and ``ca_bundle`` paths are taken relative to the config file's folder, and ``~`` is
expanded, so a profile copied from ``samples/`` works wherever the file lives.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from .clouds import Cloud, get_cloud, is_guid, normalize_tenant
from .errors import CcsyncError, ConfigError

__all__ = [
    "Profile", "AUTH_METHODS", "DEFAULT_SECRET_ENV", "PROFILE_KEYS", "config_path", "load_config",
    "get_profile", "save_profiles",
]

AUTH_METHODS = ("secret", "certificate", "device_code")
DEFAULT_SECRET_ENV = "CCSYNC_CLIENT_SECRET"
PROFILE_KEYS = ("cloud", "tenant", "client_id", "auth", "secret_env", "certificate", "certificate_password_env",
                "login_url", "graph_url", "ca_bundle")
_REQUIRED = ("cloud", "tenant", "client_id")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Profile names become token-cache file names, so keep them to characters that are safe in a path.
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Profile:
    """One way to sign in to one tenant. Holds no secret: only the name of the env var that holds it."""

    name: str
    cloud: str
    tenant: str
    client_id: str
    auth: str = "secret"
    secret_env: str = DEFAULT_SECRET_ENV
    certificate: str | None = None
    certificate_password_env: str | None = None
    login_url: str | None = None
    graph_url: str | None = None
    ca_bundle: str | None = None

    @property
    def cloud_obj(self) -> Cloud:
        return get_cloud(self.cloud)

    @property
    def authority(self) -> str:
        """The token authority: the login URL override (or the cloud's login host) plus ``/tenant``."""
        base = (self.login_url or self.cloud_obj.login_url).rstrip("/")
        return f"{base}/{self.tenant}"

    @property
    def graph_base(self) -> str:
        """Graph root without version, e.g. ``https://graph.microsoft.us``."""
        return (self.graph_url or self.cloud_obj.graph_url).rstrip("/")

    @property
    def scope(self) -> str:
        """Always the cloud's own ``<graph>/.default``, even with an endpoint override (the simulator checks it)."""
        return self.cloud_obj.graph_scope

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (camelCase, unset overrides left out); there is no secret to leave out."""
        out: dict[str, Any] = {"name": self.name, "cloud": self.cloud, "tenant": self.tenant,
                               "clientId": self.client_id, "auth": self.auth, "secretEnv": self.secret_env,
                               "authority": self.authority, "graphBase": self.graph_base, "scope": self.scope}
        for key, attr in (("certificate", "certificate"), ("certificatePasswordEnv", "certificate_password_env"),
                          ("loginUrl", "login_url"), ("graphUrl", "graph_url"), ("caBundle", "ca_bundle")):
            value = getattr(self, attr)
            if value is not None:
                out[key] = value
        return out


def config_path() -> Path:
    """Where the config file is read from: ``$CCSYNC_CONFIG``, else the per-user default for this OS."""
    env = os.environ.get("CCSYNC_CONFIG")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "ccsync" / "config.toml"
    return Path.home() / ".config" / "ccsync" / "config.toml"


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Profile]:
    """Read and validate every profile in the config file; raise ConfigError naming file, profile and field."""
    file = Path(path).expanduser() if path is not None else config_path()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"Config file {file} does not exist.",
                          hint="Create it with a [profiles.<name>] table (see samples/ and docs), or point "
                               "CCSYNC_CONFIG at your config file.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {file}: {exc.strerror or exc}.",
                          hint="Check the file's permissions.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text (byte {exc.start}).",
                          hint="Save the config file as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line L, column C)".
        raise ConfigError(f"{file}: TOML syntax error: {exc}.",
                          hint="Fix the line shown; strings need double quotes, e.g. cloud = \"gcch\".") from None

    unknown_top = sorted(set(data) - {"profiles"})
    if unknown_top:
        raise ConfigError(f"{file}: unknown top-level key(s) {', '.join(repr(k) for k in unknown_top)}.",
                          hint="The file holds only [profiles.<name>] tables.")
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{file}: 'profiles' must be a table of [profiles.<name>] tables.")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        profiles[name] = _parse_profile(file, name, table)
    return profiles


def get_profile(name: str | None, path: str | os.PathLike[str] | None = None) -> Profile:
    """The named profile; with ``name=None``, the only profile in the file. Unknown names list the known ones."""
    profiles = load_config(path)
    file = Path(path).expanduser() if path is not None else config_path()
    if name is None:
        if len(profiles) == 1:
            return next(iter(profiles.values()))
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"{file} has {len(profiles)} profiles; say which one to use (known: {known}).",
                          hint="Pass --profile <name>.")
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"{file}: unknown profile '{name}' (known profiles: {known}).",
                          hint=f"Add a [profiles.{name}] table or use one of the known profiles.")
    return profiles[name]


def save_profiles(profiles: Iterable[Profile] | Mapping[str, Profile], path: str | os.PathLike[str]) -> Path:
    """Write ``profiles`` as a config file readable by :func:`load_config` (mode 0600, replacing the file).

    Profiles carry no secrets, so none can be written; only env var names are.
    """
    items = list(profiles.values()) if isinstance(profiles, Mapping) else list(profiles)
    file = Path(path).expanduser()
    lines = ["# ccsync profiles. Secrets are never stored here: set the environment variable named by",
             "# secret_env (or certificate_password_env) before signing in.", ""]
    seen: set[str] = set()
    for profile in items:
        if not _PROFILE_NAME.match(profile.name):
            raise ConfigError(f"Profile name '{profile.name}' cannot be written to {file}.",
                              hint="Use letters, digits, '.', '_' or '-' (up to 64 characters).")
        if profile.name in seen:
            raise ConfigError(f"Profile '{profile.name}' is given twice for {file}.")
        seen.add(profile.name)
        lines.append(f"[profiles.{_toml_key(profile.name)}]")
        for key in PROFILE_KEYS:
            value = getattr(profile, key)
            if value is None:
                continue
            lines.append(f"{key} = {_toml_string(str(value))}")
        lines.append("")
    text = "\n".join(lines)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return file


# --- parsing ---------------------------------------------------------------------------------------------

def _where(file: Path, profile: str, field: str | None = None) -> str:
    return f"{file}: profile '{profile}'" + (f", field '{field}'" if field else "")


def _parse_profile(file: Path, name: str, table: Any) -> Profile:
    if not _PROFILE_NAME.match(name):
        raise ConfigError(f"{file}: profile name '{name}' is not allowed.",
                          hint="Use letters, digits, '.', '_' or '-' (up to 64 characters), starting with a "
                               "letter or digit.")
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(file, name)} must be a table ([profiles.{name}]).")
    unknown = sorted(set(table) - set(PROFILE_KEYS))
    if unknown:
        raise ConfigError(f"{_where(file, name)}: unknown key(s) {', '.join(repr(k) for k in unknown)}.",
                          hint=f"Allowed keys: {', '.join(PROFILE_KEYS)}.")
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{_where(file, name, key)} must be a string, not {type(value).__name__}.",
                              hint=f'Quote it: {key} = "..."')
    values = {k: v.strip() for k, v in table.items()}
    for key in _REQUIRED:
        if not values.get(key):
            raise ConfigError(f"{_where(file, name, key)} is missing.",
                              hint=_REQUIRED_HINTS[key])

    try:
        cloud = get_cloud(values["cloud"]).name
    except CcsyncError as exc:
        raise ConfigError(f"{_where(file, name, 'cloud')}: {exc.message}", hint=exc.hint) from None
    try:
        tenant = normalize_tenant(values["tenant"])
    except CcsyncError as exc:
        raise ConfigError(f"{_where(file, name, 'tenant')}: {exc.message}", hint=exc.hint) from None
    client_id = values["client_id"]
    if not is_guid(client_id):
        raise ConfigError(f"{_where(file, name, 'client_id')}: '{client_id}' is not an application (client) ID.",
                          hint="Copy the Application (client) ID (a GUID) from the app registration's Overview.")
    client_id = client_id.strip("{}").lower()

    auth = values.get("auth") or "secret"
    if auth not in AUTH_METHODS:
        raise ConfigError(f"{_where(file, name, 'auth')}: unknown auth method '{auth}'.",
                          hint=f"Use one of: {', '.join(AUTH_METHODS)}.")
    secret_env = values.get("secret_env") or DEFAULT_SECRET_ENV
    for key in ("secret_env", "certificate_password_env"):
        if values.get(key) and not _ENV_NAME.match(values[key]):
            raise ConfigError(f"{_where(file, name, key)}: '{values[key]}' is not an environment variable name.",
                              hint="Give the NAME of the variable (letters, digits, '_'), never the secret itself.")

    certificate = _resolve_path(file, values.get("certificate"))
    if auth == "certificate" and not certificate:
        raise ConfigError(f"{_where(file, name, 'certificate')} is required when auth = \"certificate\".",
                          hint='Add certificate = "/path/to/ccsync.pem" (key + certificate) or a .pfx file.')
    ca_bundle = _resolve_path(file, values.get("ca_bundle"))
    urls: dict[str, str | None] = {}
    for key in ("login_url", "graph_url"):
        urls[key] = _check_url(file, name, key, values.get(key))

    return Profile(name=name, cloud=cloud, tenant=tenant, client_id=client_id, auth=auth, secret_env=secret_env,
                   certificate=certificate, certificate_password_env=values.get("certificate_password_env") or None,
                   login_url=urls["login_url"], graph_url=urls["graph_url"], ca_bundle=ca_bundle)


_REQUIRED_HINTS = {
    "cloud": "Add cloud = \"commercial\" (or gcc, gcch, dod, china): the cloud the tenant lives in.",
    "tenant": "Add tenant = \"<tenant ID or verified domain>\".",
    "client_id": "Add client_id = \"<Application (client) ID of the app registration>\".",
}


def _resolve_path(file: Path, value: str | None) -> str | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = file.parent / path
    return str(path)


def _check_url(file: Path, name: str, key: str, value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"{_where(file, name, key)}: '{value}' is not an https:// URL.",
                          hint="Endpoint overrides must be https URLs such as https://127.0.0.1:8443.")
    if parts.query or parts.fragment:
        raise ConfigError(f"{_where(file, name, key)}: '{value}' must not have a query or fragment.")
    return value.rstrip("/")


# --- writing ----------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string for everything json.dumps emits (it never emits "\/").
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(value: str) -> str:
    return value if _BARE_KEY.match(value) else _toml_string(value)
