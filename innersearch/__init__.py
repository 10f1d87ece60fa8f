"""innersearch: organization-wide code search and duplicate detection.

Packages follow the data flow: indexer -> search, dedup -> web.
"""

__version__ = "0.1.0"
