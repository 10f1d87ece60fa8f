"""The implementations index: a second tantivy index (DATA_DIR/implementations) of what repos,
modules and functions say about themselves, ranked by BM25 with English stemming.

Document kinds: "repo" (name, package metadata, host description and topics, README),
"module" (one source file) and "function" (one definition). Every
document carries `state_key`, a hash of (repo, described commit): the default branch's
commit where the repo was last described, named in repos.info["described"] (a commit that
touches no file describe.py reads keeps the description and its documents). A reader asks
only for the keys of the repos its Snapshot sees (repo_key), so permissions and generations
filter this index as they do the main one. The writer adds a commit's documents and commits
them before the catalog names that commit; at the end of a run collect_garbage() deletes
the documents no repo names any more, looking at those of the repos the run described again
or removed (at every document after a run that did not finish).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import git
import tantivy

from . import catalog, gitread, layout
from .describe import RepoDescription, describe_repo, reads_path, words
from .repoinfo import RepoInfo

WORDS_ANALYZER = "code_en"  # simple tokens, lower-cased, English stop words, English stems

KIND_REPO = "repo"
KIND_MODULE = "module"
KIND_FUNCTION = "function"

F_KIND = "kind"
F_STATE_KEY = "state_key"  # u64 hash of (repo, commit): the snapshot filter
# The same key as text: tantivy-py's delete_documents_by_term does not match u64 terms
# (measured with 0.27.0), text terms it does.
F_STATE = "state"
F_REPO = "repo"
F_PATH = "path"
F_NAME = "name"  # definition name (function docs)
F_SYM_KIND = "sym_kind"
F_LINE = "line"
F_DOC = "doc"  # stored first lines of what the code says (shown in results)
# Searched text fields, from the most to the least specific words.
F_TITLE = "title"  # repo/package names, module path, definition name: identifier words
F_ABOUT = "about"  # description, keywords, topics, docstrings
F_BODY = "body"  # README text, comments, names defined inside
TEXT_FIELDS = (F_TITLE, F_ABOUT, F_BODY)
MAX_BODY_CHARS = 200_000  # of one document's body
WRITER_HEAP_BYTES = 64 * 1024 * 1024


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(F_KIND, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field(F_STATE_KEY, stored=True, indexed=True, fast=True)
    sb.add_text_field(F_STATE, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_REPO, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_PATH, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_NAME, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(F_SYM_KIND, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field(F_LINE, stored=True)
    sb.add_text_field(F_DOC, stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=WORDS_ANALYZER, index_option="freq")
    return sb.build()


SCHEMA = build_schema()
ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.stopword("english"))
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)


def open_index(path: Path, create: bool = False) -> tantivy.Index:
    if create:
        path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    index.register_tokenizer(WORDS_ANALYZER, ANALYZER)
    return index


def state_key(repo: str, commit: str) -> int:
    """The 60-bit key of one repo at one commit (the unit documents are switched in)."""
    digest = hashlib.sha1(f"{repo}\0{commit}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") >> 4


def described_commit(info: dict, commit: str) -> str:
    """The commit whose documents stand for the repo at its indexed `commit` (`info`: its
    repos.info): where it was last described, or `commit` itself."""
    described = info.get("described") if isinstance(info, dict) else None
    found = described.get("commit") if isinstance(described, dict) else None
    return found if isinstance(found, str) and found else commit


def repo_key(repo: str, info: dict, commit: str) -> int:
    """The state key of the documents of `repo` indexed at `commit` with repos.info `info`."""
    return state_key(repo, described_commit(info, commit))


def query_terms(text: str) -> list[str]:
    """The analysed terms of a user's words, identifiers split as documents are."""
    return list(dict.fromkeys(ANALYZER.analyze(words(text))))


def described_query(
    kind: str, terms: list[str], keys: list[int], boosts: dict[str, float]
) -> tantivy.Query:
    """Documents of `kind` among the repo states `keys` that hold any of `terms` in a text
    field, scored by BM25 times each field's boost (the filters score nothing)."""
    should = [
        (
            tantivy.Occur.Should,
            tantivy.Query.boost_query(
                tantivy.Query.term_query(SCHEMA, fld, t, index_option="freq"), boost
            ),
        )
        for t in terms
        for fld, boost in boosts.items()
    ]
    return tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, tantivy.Query.boolean_query(should)),
            (
                tantivy.Occur.Must,
                tantivy.Query.const_score_query(
                    tantivy.Query.term_query(SCHEMA, F_KIND, kind), 0.0
                ),
            ),
            (
                tantivy.Occur.Must,
                tantivy.Query.const_score_query(
                    tantivy.Query.term_set_query(SCHEMA, F_STATE_KEY, keys), 0.0
                ),
            ),
        ]
    )


@dataclass(frozen=True, slots=True)
class DescribedDoc:
    """One stored document of this index, decoded: whose it is, where, and what it says."""

    kind: str
    state_key: int | None
    repo: str
    path: str
    name: str  # function documents: the definition's name
    sym_kind: str
    line: int
    doc: str  # the first lines of what the code says about itself

    @classmethod
    def decode(cls, document: tantivy.Document) -> DescribedDoc:
        d = document.to_dict()

        def first(name: str, default=""):
            return (d.get(name) or [default])[0]

        return cls(
            kind=first(F_KIND),
            state_key=first(F_STATE_KEY, None),
            repo=first(F_REPO),
            path=first(F_PATH),
            name=first(F_NAME),
            sym_kind=first(F_SYM_KIND),
            line=int(first(F_LINE, 0)),
            doc=first(F_DOC),
        )


# -- writing ----------------------------------------------------------------------------


def _path_words(path: str) -> str:
    p = PurePosixPath(path)
    return words(" ".join([*p.parts[:-1], p.stem]))


def _host_words(host: dict | None) -> list:
    """[description, topics] of what the code host says, as the repo document uses them."""
    host = host if isinstance(host, dict) else {}
    raw_topics = host.get("topics")
    topics = [t for t in raw_topics if isinstance(t, str)] if isinstance(raw_topics, list) else []
    description = host.get("description") if isinstance(host.get("description"), str) else ""
    return [description, topics]


def repo_documents(
    repo: str, commit: str, described: RepoDescription, host: dict | None
) -> list[tantivy.Document]:
    """The documents of one repo at one commit, from describe.describe_repo()."""
    return [document(fields) for fields in repo_fields(repo, commit, described, host)]


def document(fields: dict[str, str | int]) -> tantivy.Document:
    """One tantivy document from its fields (ints are unsigned fields, the rest text)."""
    d = tantivy.Document()
    for name, value in fields.items():
        if isinstance(value, int):
            d.add_unsigned(name, value)
        else:
            d.add_text(name, value)
    return d


def repo_fields(
    repo: str, commit: str, described: RepoDescription, host: dict | None
) -> list[dict[str, str | int]]:
    """repo_documents' documents as plain fields: what a shard sends for the org-wide index
    of `serve --ray` (web/fanout_impl.py)."""
    key = state_key(repo, commit)
    about = described.about
    host_description, topics = _host_words(host)

    def doc(kind: str, title: str, about_text: str, body: str, **stored) -> dict:
        fields: dict[str, str | int] = {F_KIND: kind, F_STATE_KEY: key, F_STATE: str(key)}
        fields[F_REPO] = repo
        fields.update(stored)
        fields[F_TITLE] = title
        fields[F_ABOUT] = about_text
        fields[F_BODY] = body[:MAX_BODY_CHARS]
        return fields

    docs = []
    for module in described.modules:
        names = " ".join(words(d.name) for d in module.definitions)
        notes = " ".join(words(d.doc) for d in module.definitions if d.doc)
        module_doc = words(module.doc)
        docs.append(
            doc(
                KIND_MODULE,
                _path_words(module.path),
                module_doc,
                f"{names} {notes}",
                path=module.path,
                doc=module.doc.strip()[:300],
            )
        )
        for d in module.definitions:
            docs.append(
                doc(
                    KIND_FUNCTION,
                    words(d.name),
                    words(d.doc),
                    _path_words(module.path),
                    path=module.path,
                    name=d.name,
                    sym_kind=d.kind,
                    line=d.line,
                    doc=d.doc.strip()[:300],
                )
            )
    title = " ".join([words(repo), *(words(p) for p in about.get("packages", []))])
    about_text = " ".join(
        [about.get("description", ""), host_description, *about.get("keywords", []), *topics]
    )
    description = about.get("description") or host_description
    docs.append(
        doc(
            KIND_REPO,
            title,
            words(about_text),
            # Only the README: modules speak for the code, and a repo document holding all
            # of it would rank big repos low on length alone.
            words(described.readme_text),
            doc=description[:300],
        )
    )
    return docs


def described_again(
    data: layout.DataDir, cat: catalog.Catalog, row: catalog.RepoRow, commit: str
) -> list[dict[str, str | int]]:
    """The fields of `row`'s documents for its indexed default-branch `commit`, made again
    as the indexer made them: describe_repo at the commit it was described at, over the
    branch's indexed files, with the code host's words it was described with. (The text
    fields are indexed, not stored: they cannot be read back from the index.)"""
    info = row.info if isinstance(row.info, dict) else {}
    at = described_commit(info, commit)
    with cat.read() as r:
        rows = r.branch_file_rows(row.id, row.default_branch)
    files = {path: (key, lang, flags) for path, (key, lang, flags, _size) in rows.items()}
    kept = info.get("described") if isinstance(info.get("described"), dict) else {}
    words_then = kept.get("host")
    if not (isinstance(words_then, list) and len(words_then) == 2):
        words_then = _host_words(info.get("host"))
    host = {"description": words_then[0], "topics": words_then[1]}
    mirror = git.Repo(str(data.mirror_path(row.name)))
    try:
        # activity={}: the activity is not in the documents, and reading it walks history.
        described = describe_repo(mirror, at, files, activity={})
    finally:
        mirror.close()
    return repo_fields(row.name, at, described, host)


def in_memory(documents: Iterable[dict[str, str | int]]) -> tantivy.Index:
    """A new index in memory holding `documents`: no deleted documents, so its BM25
    statistics are exactly those of these documents (an index on disk keeps deleted ones
    in its counts until its segments merge)."""
    index = tantivy.Index(SCHEMA)
    index.register_tokenizer(WORDS_ANALYZER, ANALYZER)
    writer = index.writer(WRITER_HEAP_BYTES, 1)
    for fields in documents:
        writer.add_document(document(fields))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


@dataclass
class ImplWriter:
    """The indexer's side: add a repo's documents, commit, and drop stale ones at the end."""

    index: tantivy.Index
    writer: tantivy.IndexWriter
    # Repos described again or removed in this run: the only ones whose documents may have
    # become garbage (a collection looks at theirs, not at every document of the index).
    touched: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, path: Path) -> ImplWriter:
        index = open_index(path, create=True)
        return cls(index, index.writer(WRITER_HEAP_BYTES, 1))

    def describe(
        self,
        repo: str,
        mirror,
        commit: str,
        files: Callable[[], dict],
        old_info: RepoInfo,
        changed: list[tuple[str, str]] | None = None,
        activity: dict | None = None,
    ) -> dict:
        """Read what the repo says about itself at `commit` (describe.py), add its documents
        (committed with the next commit()) and return the keys it adds to repos.info.
        `old_info` is the catalog's info so far: the code host's part comes from there.
        `changed`: the (path, language) pairs a diff touched since `old_info` was made; when
        none is a file describe.py reads and the host says what it said, the description and
        its documents carry over (reading them again cost seconds on the kernel's 78k files),
        only the activity is read anew (`activity`, when the caller read it). `files()`: the
        branch's files (path -> entry)."""
        host = _host_words(old_info.host)
        kept = old_info.described
        if (
            changed is not None
            and kept is not None
            and kept.get("host") == host
            and old_info.about is not None
            and old_info.deps is not None
            and not any(reads_path(path, lang) for path, lang in changed)
        ):
            return {
                "about": old_info.about,
                "deps": old_info.deps,
                "activity": activity or gitread.recent_activity(mirror, commit),
                "described": kept,
            }
        described = describe_repo(mirror, commit, files(), activity)
        self.touched.add(repo)
        docs = repo_documents(repo, commit, described, old_info.host)
        # Idempotent: a run killed after this commit but before the catalog's re-adds.
        self.writer.delete_documents_by_term(F_STATE, str(state_key(repo, commit)))
        for d in docs:
            self.writer.add_document(d)
        return {**described.info(), "described": {"commit": commit, "host": host}}

    def commit(self) -> None:
        self.writer.commit()

    def forget(self, repo: str) -> None:
        """`repo` leaves the sources: its documents go at the next collection."""
        self.touched.add(repo)

    def collect_garbage(
        self, default_commits: dict[str, str], infos: dict[str, dict], sweep_all: bool = False
    ) -> None:
        """Delete the documents of the repos touched in this run (of every repo with
        `sweep_all`) but those the indexed default branches' commits name (`infos`: repo ->
        repos.info)."""
        if not sweep_all and not self.touched:
            return
        live = {repo_key(r, infos.get(r, {}), commit) for r, commit in default_commits.items()}
        self.index.reload()
        searcher = self.index.searcher()
        if searcher.num_docs:
            queries = (
                [tantivy.Query.all_query()]
                if sweep_all
                else [
                    tantivy.Query.term_query(SCHEMA, F_REPO, repo) for repo in sorted(self.touched)
                ]
            )
            present: set[int] = set()
            for query in queries:
                hits = searcher.search(query, limit=searcher.num_docs, count=False)
                present.update(searcher.fast_field_values(F_STATE_KEY, [a for _, a in hits.hits]))
            for key in present - live:
                self.writer.delete_documents_by_term(F_STATE, str(key))
        self.writer.commit()
        self.touched.clear()

    def close(self) -> None:
        self.writer.wait_merging_threads()
