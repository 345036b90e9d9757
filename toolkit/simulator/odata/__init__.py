"""OData for the simulated Graph: errors (``errors``), query options (``query``) and ``$filter`` (``filter``).

This face hands the three modules' names on, so ``from toolkit.simulator.odata import ...`` reads from one place.
"""

from .errors import GraphFault, bad_request, not_found, unsupported_query
from .filter import GROUP_FILTERS, USER_FILTERS, FilterTokens, ODataFilter, PropertyRule, apply_filter, parse_filter
from .query import (check_query_options, decode_token, encode_token, has_eventual, is_advanced, new_snapshot_key,
                    parse_select, parse_top, project, search_matches)

__all__ = ["GraphFault", "bad_request", "not_found", "unsupported_query", "GROUP_FILTERS", "USER_FILTERS",
           "FilterTokens", "ODataFilter", "PropertyRule", "apply_filter", "parse_filter", "check_query_options", "decode_token",
           "encode_token", "has_eventual", "is_advanced", "new_snapshot_key", "parse_select", "parse_top", "project",
           "search_matches"]
