"""``ccsync login``: sign in with a profile and show which cloud, tenant and permissions the token carries."""

from __future__ import annotations

from typing import Any

import click

from .output import common_options, emit, key_value_table, state, warn


@click.command("login")
@click.option("--profile", "-p", "profile_name", required=True, metavar="NAME",
              help="Profile in the config file naming cloud, tenant, app and how to authenticate.")
@common_options
def login_command(profile_name: str) -> None:
    """Sign in with a profile and show the cloud, tenant, app and application permissions (roles) of the
    token. The secret comes from the profile's environment variable or a hidden prompt, never an argument.

    Example: ccsync login --profile contoso
    """
    from toolkit.auth import login
    from toolkit.config import get_profile

    profile = get_profile(profile_name, state().config)
    result = login(profile)
    data = {"profile": profile_name, **result.to_dict()}
    if not data.get("roles"):
        warn("The token carries no application permissions (roles). Grant Microsoft Graph application "
             "permissions to the app in this cloud's portal and give admin consent.")

    def render(console: Any) -> None:
        rows = [("profile", profile_name), ("cloud", data.get("cloud")), ("tenant", data.get("tenantId")),
                ("app", data.get("appId")), ("auth", data.get("auth")), ("signed-in user", data.get("user")),
                ("expires", data.get("expiresOn")), ("scopes", data.get("scopes")),
                ("roles", "\n".join(sorted(data.get("roles") or [])) or "(none)")]
        console.print(key_value_table([(k, v) for k, v in rows if v not in (None, "", [])], title="Signed in"))

    emit(data, render)
