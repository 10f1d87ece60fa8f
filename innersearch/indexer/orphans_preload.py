"""Preloaded by the indexer's forkserver only: importing it ties the importing process's
life to its parent's (see orphans.py). Nothing else imports it."""

from .orphans import die_with_parent

die_with_parent()
