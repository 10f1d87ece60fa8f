"""Duplicate detection: clone classes and library pairs from the indexer's fingerprints.

Entry points: api.py (Python) and cli.py (`innersearch dedup`); docs/dedup.md has the method.
"""
