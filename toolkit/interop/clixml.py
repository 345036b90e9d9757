"""``Export-Clixml`` files for the PowerShell side: the reader lives in ``toolkit.export.clixml`` (it is one of the
export's sources, beside snapshots and saved Graph JSON); this name keeps ``toolkit.interop.clixml`` working for
scripts that imported it."""

from __future__ import annotations

from ..export.clixml import is_clixml_source, load_clixml_raw, load_clixml_tenant, read_clixml, to_graph

__all__ = ["read_clixml", "to_graph", "load_clixml_raw", "load_clixml_tenant", "is_clixml_source"]
