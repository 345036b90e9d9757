"""``ccsync login``: sign in with a profile and show which cloud, tenant and permissions the token carries."""

from __future__ import annotations

from typing import Any

import click

from .options import profile_option
from .output import common_options, emit, info, key_value_table, state, warn


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "an unknown time"
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min"


@click.command("login")
@profile_option(help="Profile in the config file naming cloud, tenant, app and how to authenticate.")
@click.option("--use-cache", is_flag=True, default=False,
              help="Accept a cached token instead of signing in again (says how old it is). By default login "
                   "asks the identity platform for a new token, so a wrong or expired secret is found now.")
@common_options
def login_command(profile_name: str, use_cache: bool) -> None:
    """Sign in with a profile and show the cloud, tenant, app and application permissions (roles) of the
    token. The secret comes from the profile's environment variable or a hidden prompt, never an argument.
    Login always proves the credentials with a new token unless --use-cache is given.

    Example: ccsync login --profile contoso
    """
    from toolkit.auth import login
    from toolkit.config import get_profile

    profile = get_profile(profile_name, state().config)
    result = login(profile, use_cache=use_cache)
    data = {"profile": profile_name, **result.to_dict()}
    if result.fresh:
        info("The identity platform issued a new token: the credentials work.")
    else:
        age = result.age_seconds
        info(f"Used a cached token issued {_age(age)} ago; the credentials were last proved then "
             "(run without --use-cache to prove them now).")
    if not data.get("roles"):
        warn("The token carries no application permissions (roles). Grant Microsoft Graph application "
             "permissions to the app in this cloud's portal and give admin consent.")

    def render(console: Any) -> None:
        rows = [("profile", profile_name), ("cloud", data.get("cloud")), ("tenant", data.get("tenantId")),
                ("app", data.get("appId")), ("auth", data.get("auth")), ("signed-in user", data.get("user")),
                ("token", "new" if result.fresh else f"cached, {_age(result.age_seconds)} old"),
                ("expires", data.get("expiresOn")), ("scopes", data.get("scopes")),
                ("roles", "\n".join(sorted(data.get("roles") or [])) or "(none)")]
        console.print(key_value_table([(k, v) for k, v in rows if v not in (None, "", [])], title="Signed in"))

    emit(data, render)
