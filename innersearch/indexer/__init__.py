"""The indexer: sources -> mirrors -> snapshots -> parse -> tantivy index + SQLite catalog.

Readers use store.Store; the only writer is run.index_sources.
"""
