"""A tenant named the way an admin names it on a command line: an existing path (a snapshot, saved Graph JSON,
Export-Clixml files) is read offline; anything else is a profile, exported live through Graph."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from ..clouds import CLOUDS, get_cloud
from ..errors import InputError
from ..frames import TenantData

__all__ = ["open_tenant"]


def open_tenant(ref: str, *, config: str | Path | None = None, groups: Sequence[str] = (), role: str = "tenant",
                cloud: str | None = None, cloud_flag: str = "--source-cloud",
                say: Callable[[str], None] | None = None) -> TenantData:
    """TenantData for ``ref``: an existing path is read offline; anything else names a profile in ``config``
    (the profiles file; None: the default one) to export live, with the members of ``groups``.

    A path wins over a profile of the same name, so an offline run never signs in by surprise. ``cloud`` (the
    caller's ``cloud_flag``) names the cloud of saved Graph JSON, which ccsync otherwise infers from the Graph
    host in its ``@odata`` annotations; when neither tells, the error names the flag to add. ``say`` gets one
    line saying where the tenant is read from.
    """
    from . import export_tenant
    from .load import graph_hosts, load_tenant

    say = say or (lambda _line: None)
    path = Path(ref).expanduser()
    if path.exists():
        say(f"Reading the {role} from {path}")
        data = load_tenant(path, cloud=get_cloud(cloud).name if cloud else None)
        if data.cloud not in CLOUDS:
            hosts = sorted(graph_hosts([p for p in ([path] if path.is_file() else path.rglob("*.json*"))]))
            seen = f" (its Graph host {', '.join(hosts)} serves more than one cloud)" if hosts else ""
            raise InputError(f"cannot tell which Microsoft cloud the {role} in {path} is from{seen}",
                             source=str(path), field=cloud_flag,
                             hint=f"Add {cloud_flag} CLOUD (one of {', '.join(CLOUDS)}).")
        return data
    from ..config import get_profile
    from ..graph import GraphClient

    profile = get_profile(ref, config)
    if cloud and get_cloud(cloud).name != get_cloud(profile.cloud).name:
        raise InputError(f"{cloud_flag} {cloud} contradicts profile '{profile.name}', which signs in to "
                         f"{profile.cloud}", field=cloud_flag, hint=f"Drop {cloud_flag}, or use another profile.")
    say(f"Exporting the {role} through profile '{profile.name}' ({profile.cloud}, {profile.tenant})")
    return export_tenant(GraphClient.from_profile(profile), groups=groups, cloud=profile.cloud)
