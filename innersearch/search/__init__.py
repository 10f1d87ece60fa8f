"""Search: the query language, exact matching with RE2, ranking, symbols and references.

Import the public functions from innersearch.search.api (re-exported here).
"""

from .api import QueryError, definition_at, outline, references, search, symbols

__all__ = ["QueryError", "search", "symbols", "references", "definition_at", "outline"]
