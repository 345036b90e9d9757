"""``Export-Clixml`` files an admin already saved (``Get-MgUser``, ``Get-MgSubscribedSku``, ``Get-MgDomain``,
``Get-MgOrganization``) -> the same ``TenantData`` frames as an export, so eligibility and plans run on them.

The format is PowerShell's serialization XML (MS-PSRP section 2.2.5, "Serialization"; summarised in
``docs/ARCHITECTURE.md``): a root ``<Objs>`` of ``<Obj>`` elements, each with its type names (``<TN>``, or
``<TNRef>`` to an earlier list), adapted properties (``<Props>``) and extended ones (``<MS>``); values are typed
elements (``S`` string, ``B`` boolean, ``DT`` date-time, ``I32``/``I64``/``Db`` numbers, ``G`` GUID, ``Nil``
null, nested ``Obj``); collections are ``LST``/``IE``/``STK``/``QUE`` (items) or ``DCT`` (``En`` entries with
``Key``/``Value``); ``<Ref RefId>`` repeats an earlier object. Strings escape characters XML cannot carry as
``_xHHHH_``.

The Graph PowerShell SDK's objects carry Graph's properties in PascalCase (``UserPrincipalName``,
``AssignedLicenses``, ``LicenseAssignmentStates``) plus ``AdditionalProperties`` (Graph's own names); they become
Graph JSON objects (camelCase) and go through the same ``build_tenant_data`` as saved Graph JSON.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

__all__ = ["read_clixml", "to_graph", "load_clixml_raw", "load_clixml_tenant", "is_clixml_source"]

_NS = "{http://schemas.microsoft.com/powershell/2004/04}"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_COLLECTIONS = ("LST", "IE", "STK", "QUE")
_HINT = ("Save the objects with Export-Clixml (e.g. Get-MgUser -All -Property ... | Export-Clixml users.xml) "
         "and give that file unchanged.")

# Graph SDK model type -> Graph collection (the SDK's type names end in MicrosoftGraph<Entity>).
_KINDS = {"MicrosoftGraphUser": "users", "MicrosoftGraphSubscribedSku": "subscribedSkus",
          "MicrosoftGraphDomain": "domains", "MicrosoftGraphOrganization": "organization",
          "MicrosoftGraphGroup": "groups"}


def _unescape(text: str | None) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text or "")


class _Reader:
    """Decodes one document; objects are remembered by RefId so a <Ref> can repeat them."""

    def __init__(self, source: str):
        self.source = source
        self.objects: dict[str, Any] = {}
        self.types: dict[str, list[str]] = {}

    def value(self, element: ET.Element) -> Any:
        tag = element.tag.replace(_NS, "")
        text = element.text
        if tag in ("S", "C", "URI", "XD", "SBK", "Version"):
            return _unescape(text)
        if tag == "B":
            return (text or "").strip().lower() == "true"
        if tag in ("I32", "I64", "I16", "U8", "U16", "U32", "U64", "SB", "By"):
            return int(text or 0)
        if tag in ("Db", "Sg", "D"):
            return float(text or 0)
        if tag == "G":
            return (text or "").strip()
        if tag == "DT":
            return (text or "").strip()  # ISO-8601 with offset, as Graph writes dates (kept as text)
        if tag == "Nil":
            return None
        if tag == "Ref":
            return self.objects.get(element.get("RefId", ""))
        if tag == "Obj":
            return self.obj(element)
        if tag in ("SS", "BA"):
            raise InputError(f"element <{tag}> (a SecureString or binary value) is not supported here.",
                             source=self.source, hint=_HINT)
        return _unescape(text)

    def obj(self, element: ET.Element) -> Any:
        types: list[str] = []
        tn = element.find(f"{_NS}TN")
        if tn is not None:
            types = [_unescape(t.text) for t in tn.findall(f"{_NS}T")]
            self.types[tn.get("RefId", "")] = types
        tnref = element.find(f"{_NS}TNRef")
        if tnref is not None:
            types = self.types.get(tnref.get("RefId", ""), [])
        result: Any
        collection = next((element.find(f"{_NS}{c}") for c in _COLLECTIONS
                           if element.find(f"{_NS}{c}") is not None), None)
        dictionary = element.find(f"{_NS}DCT")
        if collection is not None:
            result = [self.value(child) for child in collection]
        elif dictionary is not None:
            result = {}
            for entry in dictionary.findall(f"{_NS}En"):
                key = value = None
                for child in entry:
                    if child.get("N") == "Key":
                        key = self.value(child)
                    elif child.get("N") == "Value":
                        value = self.value(child)
                result[str(key)] = value
        else:
            result = {"__types__": types}
            for group in ("Props", "MS"):
                bag = element.find(f"{_NS}{group}")
                if bag is not None:
                    for child in bag:
                        if child.get("N"):
                            result[_unescape(child.get("N"))] = self.value(child)
            if len(result) == 1:
                # A primitive wrapped in an Obj (e.g. an enum): its ToString is the value.
                to_string = element.find(f"{_NS}ToString")
                if to_string is not None:
                    result = _unescape(to_string.text)
        if element.get("RefId") is not None:
            self.objects[element.get("RefId", "")] = result
        return result


def read_clixml(path: str | os.PathLike[str]) -> list[Any]:
    """The top-level objects of an Export-Clixml file, as Python values (objects as dicts with ``__types__``)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise InputError(f"not well-formed XML ({exc}).", source=str(path), row=line, hint=_HINT) from exc
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}.", source=str(path), hint=_HINT) from exc
    if root.tag != f"{_NS}Objs":
        raise InputError(f"not an Export-Clixml file (root element <{root.tag.replace(_NS, '')}>, expected <Objs> "
                         "in the PowerShell 2004/04 namespace).", source=str(path), hint=_HINT)
    reader = _Reader(str(path))
    return [reader.value(child) for child in root]


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:] if name and not name.startswith("@") else name


def to_graph(value: Any) -> Any:
    """An SDK object (PascalCase properties + AdditionalProperties) as Graph JSON (camelCase)."""
    if isinstance(value, list):
        return [to_graph(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "__types__":
            continue
        if key == "AdditionalProperties" and isinstance(item, dict):
            for extra_key, extra in item.items():
                out.setdefault(extra_key, to_graph(extra))
            continue
        out[_camel(key)] = to_graph(item)
    return out


def _kind(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    for type_name in obj.get("__types__", []):
        short = type_name.rsplit(".", 1)[-1].replace("Deserialized.", "")
        if short in _KINDS:
            return _KINDS[short]
    return None


def is_clixml_source(path: str | os.PathLike[str]) -> bool:
    """A .xml file, or a folder holding .xml files and no Graph JSON users file."""
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() in (".xml", ".clixml")
    if path.is_dir():
        has_xml = any(p.suffix.lower() in (".xml", ".clixml") for p in path.iterdir() if p.is_file())
        has_json = any(p.suffix.lower() in (".json", ".jsonl", ".ndjson") for p in path.iterdir() if p.is_file())
        return has_xml and not has_json
    return False


def load_clixml_raw(source: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, cloud: str | None = None,
                    tenant_id: str | None = None) -> Any:
    """A ``RawTenant`` from Clixml files (a file, a folder of them, or a list of paths), sorted by object type."""
    from datetime import datetime, timezone

    from .raw import RawTenant

    if isinstance(source, (str, os.PathLike)):
        base = Path(source).expanduser()
        paths = sorted(p for p in base.iterdir() if p.suffix.lower() in (".xml", ".clixml")) if base.is_dir() \
            else [base]
    else:
        paths = [Path(p).expanduser() for p in source]
    found: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        for index, obj in enumerate(read_clixml(path), start=1):
            kind = _kind(obj)
            if kind is None:
                types = obj.get("__types__", [])[:1] if isinstance(obj, dict) else [type(obj).__name__]
                raise InputError(f"object #{index} is a {types[0] if types else 'value without a type'}, not a "
                                 "Microsoft Graph user, subscribed SKU, domain, organization or group.",
                                 source=str(path), row=index, hint=_HINT)
            found.setdefault(kind, []).append(to_graph(obj))
    if "users" not in found:
        raise InputError("no Get-MgUser objects found.", source=", ".join(str(p) for p in paths), hint=_HINT)
    organization = found.get("organization", [])
    org_id = str(organization[0].get("id")) if organization and organization[0].get("id") else None
    newest = max(p.stat().st_mtime for p in paths)
    return RawTenant(tenant_id=tenant_id or org_id or "", cloud=cloud or "unknown",
                     fetched_at=datetime.fromtimestamp(newest, timezone.utc).isoformat().replace("+00:00", "Z"),
                     users=found["users"], subscribed_skus=found.get("subscribedSkus"), domains=found.get("domains"),
                     organization=organization, groups=found.get("groups", []),
                     stats={"warnings": [], "files": [str(p) for p in paths]}, source="clixml")


def load_clixml_tenant(source: Any, *, cloud: str | None = None, tenant_id: str | None = None) -> Any:
    """``TenantData`` from Clixml files: the frames of ``toolkit.frames``, exactly as from an export."""
    from .build import build_tenant_data

    return build_tenant_data(load_clixml_raw(source, cloud=cloud, tenant_id=tenant_id))
