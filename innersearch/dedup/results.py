"""Typed answers of the dedup package: the duplicate report as served (DuplicateReport) and
the code similar to a snippet (SimilarResponse); one to_json each, the JSON of DESIGN.md.

The report is built and persisted as JSON (report.py); it is read back into these classes
with from_json, which refuses a key no class declares, so what is served is what was stored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from innersearch.indexer.jsonresult import JsonResult, from_json, named, optional
from innersearch.indexer.repoinfo import Committer


@dataclass(slots=True)
class CloneMember(JsonResult):
    """One copy of a clone class: a function or a file's lines."""

    repo: str
    path: str
    branch: str
    start_line: int
    end_line: int
    symbol: str | None  # the function's name; "" or null for a file window
    tokens: int
    lang: str
    vendored: bool
    test: bool


@dataclass(slots=True)
class RepoPath(JsonResult):
    """A directory (or, for a parallel implementation, the whole repo: "") of one repo."""

    repo: str
    path: str


@dataclass(slots=True)
class LibraryRef(JsonResult):
    """The two sides of a library pair a clone class or a finding belongs to."""

    a: RepoPath
    b: RepoPath


# The fields are declared in the order the report writes its keys (keyword-only, so an
# optional one may come before a required one): the JSON is the same byte for byte.


@dataclass(slots=True, kw_only=True)
class CloneClass(JsonResult):
    """Fragments that are copies of each other (type T1-T3), with where and how much."""

    id: str
    level: Literal["function", "file"]
    type: str  # T1 exact, T2 renamed, T3 near-miss
    similarity: float
    raw_similarity: float
    tokens: int
    members: list[CloneMember]
    scope: Literal["cross-repo", "in-repo"]
    lines: int
    impact: int  # lines consolidation would remove
    in_repo_kind: str | None = optional()  # in-repo classes: build output, tests, docs, ...
    boilerplate: bool
    library: LibraryRef | None = optional()  # the copied library it lies in, if any


@dataclass(slots=True)
class SideOwners(JsonResult):
    """Who owns one side: the CODEOWNERS rule matching its path, its top three committers."""

    codeowners: list[str]
    committers: list[Committer]  # the repo's own (indexer/repoinfo.py), the first three


@dataclass(slots=True)
class PairOwners(JsonResult):
    a: SideOwners
    b: SideOwners


@dataclass(slots=True)
class FilePair(JsonResult):
    """Two near-identical files of a copy, one per side, and how alike they are."""

    a: str
    b: str
    similarity: float


@dataclass(slots=True)
class CopyEvidence(JsonResult):
    """What a copy or a fork rests on: files matched side by side and the clones in them."""

    summary: str
    files_a: int
    files_b: int
    matched_files_a: int
    matched_files_b: int
    near_identical_files: int  # files of the copy near-identical to one of the original
    duplicated_lines: int
    shared_functions: list[str]  # names of functions both sides hold, the first 30
    shared_function_count: int
    file_pairs: list[FilePair]  # the first 20, by path


@dataclass(slots=True)
class LineageEvidence(JsonResult):
    """What a fork found by what the repos say rests on (dedup/lineage.py): one names the
    other as its origin or successor ("declared"), or both READMEs open alike."""

    summary: str
    lineage: Literal["declared", "shared-readme"]
    shared_readme_words: int  # 0 for "declared"
    duplicated_lines: int  # the derived project's code lines
    files_a: int
    files_b: int


@dataclass(slots=True)
class ParallelEvidence(JsonResult):
    """What two parallel implementations share: their vocabulary (API names, signatures,
    docs, package metadata), how close they are beside every other repo (hubness), and how
    close what they say they are for is (purpose_cosine), beside how close each one's
    description usually is to others (purpose_hubness)."""

    language: str
    shared_api_words: list[str]
    shared_signature_words: list[str]
    shared_doc_words: list[str]
    shared_package_words: list[str]
    shared_functions: int  # functions with clones between the two
    cosine: float
    hubness: list[float]  # [a's, b's]
    purpose_cosine: float  # of the embeddings of what each says it is for
    purpose_hubness: list[float]  # [a's, b's]: mean purpose cosine to its closest repos


@dataclass(slots=True)
class LibraryPair(JsonResult):
    """Two directories related as a copy, a fork or parallel implementations."""

    a: RepoPath
    b: RepoPath
    relation: Literal["copy", "fork", "parallel"]
    score: float
    canonical: Literal["a", "b"]
    canonical_reason: str
    owners: PairOwners
    # copy and fork: Copy (a fork said by the repos themselves: Lineage); parallel: Parallel
    evidence: CopyEvidence | LineageEvidence | ParallelEvidence
    scope: Literal["cross-repo", "in-repo"]
    impact: int
    in_repo_kind: str | None = optional()


@dataclass(slots=True)
class Finding(JsonResult):
    """An entry of the first page: a copy, fork, capability or clone class, by impact."""

    kind: Literal["copy", "fork", "capability", "clone"]
    impact: int
    title: str
    library: LibraryRef | None = optional()
    capability: str | None = optional()  # its id in `capabilities`
    clone_class: str | None = optional()  # its id in `clone_classes`


@dataclass(slots=True, kw_only=True)
class CapabilityMember(JsonResult):
    """One repo implementing a capability in one language, and what decides which to keep."""

    repo: str
    language: str
    used_by_repos: list[str]
    call_sites: int | None  # None: unknown for this reader (no per-repo split recorded)
    call_sites_by_repo: dict[str, int] | None = optional()
    last_commit_at: int | None
    owners: list[str]  # CODEOWNERS entries
    contributing: bool
    archived: bool
    code_lines: int


@dataclass(slots=True)
class KeepChoice(JsonResult):
    repo: str
    owners: list[str]
    reasons: list[str]


@dataclass(slots=True)
class Migration(JsonResult):
    """A member not kept: moving its users onto the kept one, and what that would retire."""

    from_: str = named("from")  # the repo moved off ("from" is no Python name)
    to: str  # the kept repo
    repos: int  # the repos that use the one moved off
    call_sites: int | None  # None: unknown for this reader
    code_lines: int
    replaceable_lines: int  # at most the kept one's code lines


@dataclass(slots=True)
class CapabilityLanguage(JsonResult):
    """A capability's implementations in one language: the one to keep, what would move."""

    language: str
    members: list[CapabilityMember]
    keep: KeepChoice
    migrate: list[Migration]  # per member not kept


@dataclass(slots=True)
class Capability(JsonResult):
    """Parallel implementations of one capability, per language: what to keep, what would
    migrate."""

    id: str
    name: str
    terms: list[str]
    summary: str
    languages: list[CapabilityLanguage]
    repos: list[str]
    impact: int


@dataclass(slots=True)
class PathPair(JsonResult):
    a: str
    b: str


@dataclass(slots=True)
class InRepoGroup(JsonResult):
    """Copies inside one repo of one kind (listed apart from the cross-repo findings)."""

    repo: str
    kind: str
    impact: int
    clone_classes: list[str]
    library_pairs: list[PathPair]


@dataclass(slots=True)
class RepoUse(JsonResult):
    repo: str
    uses: str


@dataclass(slots=True)
class RepoDuplication(JsonResult):
    repo: str
    duplicated_lines: int
    lines: int
    duplicated_lines_percent: float


@dataclass(slots=True)
class ReportSettings(JsonResult):
    """The thresholds the report was computed with (a recomputation uses them again)."""

    min_tokens: int
    min_lines: int


@dataclass(slots=True, kw_only=True)
class ReportStats(JsonResult):
    """The job's counts: of the whole run (the detection stages, seconds), or of what one
    reader may see (clone classes and their types only)."""

    fragments: int | None = optional()
    candidate_pairs: int | None = optional()  # from the LSH bands
    verified_pairs: int | None = optional()  # verified in this run
    cached_pairs: int | None = optional()  # verified in an earlier run
    clone_pairs: int | None = optional()
    clone_classes: int
    function_classes_inside_file_classes: int | None = optional()
    by_type: dict[str, int] | None = optional()  # "level/type" -> clone classes
    seconds: float | None = optional()


@dataclass(slots=True, kw_only=True)
class DuplicateReport(JsonResult):
    """The duplicate report a reader may see (GET /api/v1/duplicates): clone classes and
    library pairs, and the findings, capabilities and per-repo counts built from them.
    Before the first dedup run only clone_classes, libraries (empty) and a note."""

    format: int | None = optional()
    generation: int | None = optional()
    generated_at: str | None = optional()
    settings: ReportSettings | None = optional()
    findings: list[Finding] | None = optional()
    capabilities: list[Capability] | None = optional()
    in_repo: list[InRepoGroup] | None = optional()
    clone_classes: list[CloneClass]
    libraries: list[LibraryPair]
    uses: list[RepoUse] | None = optional()
    repos: list[RepoDuplication] | None = optional()
    stats: ReportStats | None = optional()
    note: str | None = optional()

    @classmethod
    def from_json(cls, report: dict) -> DuplicateReport:
        return from_json(cls, report)

    def to_json(self) -> dict:
        """Written once per instance: a served report is shared by the requests of its
        generation (api.report_for), so its JSON is too (do not modify either)."""
        memo = self.__dict__.get("_json")  # JsonResult has no __slots__: a __dict__ exists
        if memo is None:
            memo = self.__dict__["_json"] = JsonResult.to_json(self)
        return memo

    def involving(self, repo: str | None) -> DuplicateReport:
        """The report narrowed to library pairs and clone classes that involve `repo`."""
        if not repo:
            return self
        return dataclasses.replace(
            self,
            libraries=[p for p in self.libraries if repo in (p.a.repo, p.b.repo)],
            clone_classes=[c for c in self.clone_classes if any(m.repo == repo for m in c.members)],
        )


@dataclass(slots=True)
class SimilarMatch(JsonResult):
    """Indexed code like a snippet: where, and how alike (token streams, abstract and raw)."""

    repo: str
    path: str
    branch: str
    start_line: int
    end_line: int
    symbol: str | None
    similarity: float
    raw_similarity: float
    level: Literal["function", "file"]


@dataclass(slots=True)
class SimilarResponse(JsonResult):
    """POST /api/v1/similar: the matches, best first; `error` says why there are none."""

    matches: list[SimilarMatch]
    took_ms: float
    lang: str | None = optional()  # the language the snippet was read as
    error: str | None = optional()
