"""Moved to `rtrec.access` (shared by `record`, `replay --serve` and `ui`); kept as an alias."""

from rtrec.access import TOKEN_HEADER, TOKEN_QUERY, AccessPolicy, strip_token_from_query

__all__ = ["TOKEN_HEADER", "TOKEN_QUERY", "AccessPolicy", "strip_token_from_query"]
