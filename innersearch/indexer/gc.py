"""Garbage collection after a run: file rows and blobs no reader can see any more.

Only the blobs this run stopped naming are candidates, unless the last run did not finish
its collection: then a full sweep compares the catalog with every document of the index.
"""

from __future__ import annotations

from .writer import IndexWriter


def collect_garbage(writer: IndexWriter, sweep_all: bool) -> None:
    """Drop what no reader at the current generation can see, in the catalog and the index;
    marks the collection done (meta `gc`)."""
    cat = writer.catalog
    if sweep_all:
        with cat.write() as tx:
            tx.drop_removed_files(tx.generation())
            tx.drop_all_unreferenced_blobs()
            live = tx.blob_keys()
        writer.delete_blob_docs(writer.indexed_blob_keys() - live)
    else:
        with cat.write() as tx:
            tx.drop_removed_files(tx.generation())
            dead = tx.drop_unreferenced_blobs(writer.dropped)
        writer.delete_blob_docs(dead)
    writer.commit()
    with cat.read() as r:
        commits = r.default_branch_commits()
        infos = {repo.name: repo.info for repo in r.repos()}
    writer.impl.collect_garbage(commits, infos, sweep_all)
    with cat.write() as tx:
        tx.set_meta("gc", "done")
