"""Search over shards: one Ray actor per shard holds its Store; the caller fans a query out,
merges the pages by score and keeps the deadline, saying which shards did not answer.

Exact like one machine: the prior of a file ranks its repo's last commit among *all* repos
(rank.repo_activity), so each actor's snapshot also names the other shards' repos (their
catalog rows, no files): every shard then scores a file as one machine would, its early
stop returns its exact top `offset + limit`, and the merged top page is the global one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from innersearch.indexer.access import Principal
from innersearch.indexer.catalog import Catalog, HookRow, RepoRow
from innersearch.indexer.store import CatalogView, Snapshot, Store
from innersearch.search import api
from innersearch.search.plan import compile_plan
from innersearch.search.query import check_name, parse
from innersearch.search.results import Facets, SearchResponse, SymbolHit
from innersearch.search.sharded import ShardedSearchResponse, ShardedSymbolsResponse, coverage

from . import connect, placement
from .shards import LAYOUT_FILE, ShardLayout, hooks_path, owner

GRACE_MS = 250  # beyond the search's own budget: a shard's answer in flight, serialisation
ACTOR_THREADS = 4  # queries one shard actor runs at once (the Store is thread-safe)
# api.search's parameters, shared rather than copied: what a shard is sent is what it takes.
_SEARCH = inspect.signature(api.search)
_NOT_SENT = ("snap", "query", "client_gone")
MAX_PRINCIPALS = 1024  # readable sets remembered (one per signed-in user and generation)
MIN_SHARD_WANT = 10  # results a shard is first asked for, when the page wants more
UNSET = -1  # the generation a shard answers with before it has the other shards' rows


class ShardSearcher:
    """A shard's Store and searcher, kept loaded in a Ray actor on the shard's node."""

    def __init__(self, shard: str, root: str) -> None:
        self.shard = shard
        self.store = Store.open(ShardLayout(Path(root), (shard,)).data(shard).root)
        self.others: dict[str, RepoRow] = {}  # the other shards' repos (rows only)
        self.epoch = 0  # the pushing caller's count (0: no rows yet)
        # This actor's own count of pushes: every web worker pushes rows with its own epoch,
        # so two pushes of different rows can carry the same epoch (the view is keyed on this).
        self.pushes = 0
        self._view: tuple[tuple[int, int], CatalogView, frozenset[str]] | None = None

    def node(self) -> str:
        """The Ray node this shard's actor runs on."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def footprint(self) -> tuple[str, int, dict]:
        """What serving this shard costs: its files and repos, the actor's resident memory
        after the queries so far, and the shard's data dir on disk (MiB)."""
        snap = self.store.snapshot()
        rss_kib = next(
            int(line.split()[1])
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
        root = self.store.data.root
        disk = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        found = {
            "files": len(snap.files),
            "repos": len(snap.repos),
            "rss_mib": round(rss_kib / 1024, 1),
            "disk_mib": round(disk / 2**20, 1),
        }
        return self.shard, snap.generation, found

    def repos(self) -> tuple[int, list[RepoRow]]:
        """This shard's generation and repo rows (for the other shards' snapshots)."""
        snap = self.store.snapshot()
        return snap.generation, list(snap.repos.values())

    def set_others(self, rows: list[RepoRow], epoch: int) -> int:
        self.others = {r.name: r for r in rows}  # before the count: a reader of the new
        self.pushes += 1  # count finds the new rows
        self.epoch = epoch
        return self.store.snapshot().generation

    def _snapshot(self) -> tuple[Snapshot, frozenset[str]]:
        """This shard's state with the other shards' repo rows, and its own repos' names
        (one catalog read per query)."""
        snap = self.store.snapshot()
        key = (snap.generation, self.pushes)
        found = self._view  # read once: another thread may replace it meanwhile
        if found is None or found[0] != key:
            full = snap.view_full
            others = self.others  # read after the key: rows at least as new as it says
            repos = {n: r for n, r in others.items() if n not in full.repos}
            repos.update(full.repos)
            view = CatalogView(full.generation, full.files, repos, full.branch_commits, full.access)
            found = self._view = (key, view, frozenset(full.repos))
        return Snapshot(found[1], snap.searcher, snap.impl_searcher), found[2]

    def _scored_at(self, snap: Snapshot) -> int:
        """The generation an answer read from the merged snapshot is of; UNSET until the
        other shards' rows came (a new actor, or set_others still queued behind a query on
        another thread): its scores are not one machine's, the caller asks again."""
        return snap.generation if self.epoch else UNSET

    def _scoped(
        self, readable: list[str] | None, merged: bool = True
    ) -> tuple[Snapshot, frozenset[str]]:
        """The snapshot a request on this shard reads, restricted to `readable`: with the
        other shards' repo rows when `merged` (_snapshot), else this shard's repos only."""
        if merged:
            snap, own = self._snapshot()
        else:
            snap = self.store.snapshot()
            own = frozenset(snap.repos)
        return (snap if readable is None else snap.restricted_to(frozenset(readable))), own

    def readable(self, principal: Principal) -> tuple[str, int, tuple[list[str], bool]]:
        """The repos of this shard `principal` may read (access.py decides, with the rules
        this shard was indexed with), and whether they are all of its repos (of the same
        snapshot: a repo added since is never taken as read)."""
        snap = self.store.snapshot()
        names = snap.view_full.readable_names(principal)
        return self.shard, snap.generation, (sorted(names), names >= snap.repos.keys())

    def symbols(
        self, query: str, kind: str | None, lang: str | None, limit: int, readable
    ) -> tuple[str, int, tuple[list[SymbolHit], int]]:
        """The shard's first `limit` symbol definitions (its total too), scored as one
        machine scores them (the other shards' repo rows are in the snapshot)."""
        snap, _own = self._scoped(readable)
        out = api.symbols(snap, query, kind=kind, lang=lang, limit=limit)
        return self.shard, self._scored_at(snap), (out.symbols, out.total)

    def search(
        self, query: str, want: int, options: dict, readable: list[str] | None
    ) -> tuple[str, int, tuple[SearchResponse, bool]]:
        """The shard's first `want` results (0: all) with one machine's scores, and whether
        it left any out."""
        snap, own = self._scoped(readable)
        parsed_type = parse(query).type
        limit = 0 if parsed_type == "repo" else want  # other shards' rows must not take slots
        out = api.search(snap, query, limit=limit, offset=0, **options)
        found = out.total_matches if parsed_type == "symbol" else out.total_files
        if parsed_type == "repo":
            kept = [r for r in out.results if r.repo in own]
            out.total_matches = found = len(kept)
            out.facets = Facets({r.repo: 1 for r in kept}, {})
            out.results = kept[:want] if want else kept
        # Whether results were left out past the ones sent (the merge may need them): a
        # symbol search counts one result per definition, the others one per file.
        more = out.limit_hit or found > len(out.results)
        return self.shard, self._scored_at(snap), (out, more)

    def call(self, fn: Callable, args: tuple, readable: list[str] | None, merged: bool):
        """`fn(store, snap, *args)` on this shard: `snap` scoped to `readable`, with the other
        shards' repo rows when `merged` (what ranks and the dependency graph read) or only
        this shard's repos. What it raises comes back as a ShardFailure value: an exception
        raised in an actor reads as a dead shard to the caller."""
        snap, _own = self._scoped(readable, merged)
        try:
            found = fn(self.store, snap, *args)
        except Exception as err:  # noqa: BLE001 - carried back, raised by the web layer
            found = ShardFailure.of(err)
        return self.shard, self._scored_at(snap) if merged else snap.generation, found


@dataclass(frozen=True)
class ShardFailure:
    """An error a shard's call raised, as a value: the HTTP status it means (LookupError:
    404, a query error: 400, an error with a `status`: that one; else 500) and its message."""

    status: int
    message: str
    position: int | None = None

    @classmethod
    def of(cls, err: Exception) -> ShardFailure:
        if isinstance(err, LookupError):
            return cls(404, str(err.args[0]) if err.args else "not found")
        if isinstance(err, api.QueryError):
            return cls(400, err.message, err.position)
        status = getattr(err, "status", None)
        if isinstance(status, int):
            return cls(status, str(getattr(err, "message", err)), getattr(err, "position", None))
        return cls(500, f"internal error on a shard: {type(err).__name__}")


@dataclass
class ShardAnswers:
    """Each answering shard's result of one call, the errors shards raised (shard ->
    ShardFailure), the shards that gave none in time, and how many were asked."""

    answers: dict[str, object]
    failures: dict[str, ShardFailure]
    missing: list[str]
    shards: int

    def partial(self) -> dict:
        return coverage(self.missing, self.shards)


@dataclass
class ShardHandle:
    shard: str
    actor: object
    generation: int | None = None
    node: str = ""
    dead: bool = False  # its actor died (killed, crashed): started again at the next refresh


@dataclass
class ClusterSearch:
    """The caller's side: the shard actors of one DATA dir, and the fan-out."""

    ray: object
    layout: ShardLayout
    handles: list[ShardHandle] = field(default_factory=list)
    epoch: int = 0
    stale: bool = True
    max_concurrency: int = ACTOR_THREADS
    layout_stamp: int | None = None
    rows: dict[str, list[RepoRow]] = field(default_factory=dict)  # each shard's repo rows
    readers: dict[tuple, frozenset[str] | None] = field(default_factory=dict)  # readable_names'
    asked_again: int = 0  # shards whose share of a page was not enough (_search_shards)
    # True: each shard is first asked for its share of the page (shard_want). Off by default:
    # it halves the work of broad queries but asks again whenever a page sits mostly in one
    # shard, and lost at p50 (docs/benchmarks/cluster.md).
    share_first: bool = False
    address: str = ""  # the cluster's, for the webhook queue (hooks())
    _hooks: object = None
    _hooks_catalog: Catalog | None = None  # the queue's DATA/hooks.sqlite, read by recent_hooks

    @classmethod
    def open(cls, address: str, root, max_concurrency: int = ACTOR_THREADS) -> ClusterSearch:
        """The actors of the shards under `root`, started where missing (named after the data
        dir, so every web worker shares them); each lives on its shard's node, and moves to
        a live node when that node has left the cluster."""
        ray = connect(address)
        found = ShardLayout.load(Path(root).resolve())
        if found is None:
            raise FileNotFoundError(f"{root}: no cluster index (run `innersearch index --ray`)")
        out = cls(ray, found, max_concurrency=max_concurrency, address=address)
        out._start(found.ids)
        return out

    def _start(self, ids) -> None:
        where = placement.place(list(self.layout.ids), placement.nodes(self.ray))
        for sid in ids:
            self.handles.append(ShardHandle(sid, self._actor(sid, where[sid]), node=where[sid]))

    def _actor(self, sid: str, node: str):
        # Named after the data dir, the shard and its node: every web worker finds the same
        # actor; pinned to the node (a shard's data is read where it lives).
        return (
            self.ray.remote(ShardSearcher)
            .options(
                name=f"{actor_name(self.layout.root, sid)}-{node[:12]}",
                namespace="innersearch",
                get_if_exists=True,
                lifetime="detached",
                num_cpus=0,
                max_concurrency=self.max_concurrency,
                scheduling_strategy=placement.on_node(self.ray, node),
            )
            .remote(sid, str(self.layout.root))
        )

    def _replace_lost(self) -> None:
        """Shards whose node left the cluster get a new actor on a live node (their data dir
        must be readable there: shared storage, or the node's disk restored); a shard whose
        actor died on a live node, a new one there (the same name: every web worker that
        saw it die finds the one that the first started)."""
        alive = placement.nodes(self.ray)
        lost = [h for h in self.handles if h.node not in alive or h.dead]
        if not lost or not alive:
            return
        where = placement.place(list(self.layout.ids), alive)
        for h in lost:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(h.actor, no_restart=True)
            h.node = where[h.shard]
            h.actor = self._actor(h.shard, h.node)
            h.generation, h.dead = None, False

    def refresh(self, timeout_s: float = 5.0) -> None:
        """Give every shard the other shards' repo rows (after any shard's generation moved);
        shards added to the layout since (a grown cluster) get their actors. A shard that does
        not answer keeps its last rows and is asked again before the next query."""
        ray = self.ray
        grown = ShardLayout.load(self.layout.root)
        self.layout_stamp = None
        self._layout_moved()
        if grown is not None and grown.ids != self.layout.ids:
            old, self.layout = self.layout, grown
            self._start([s for s in grown.ids if s not in old.ids])
        self._replace_lost()
        refs = {h.shard: h.actor.repos.remote() for h in self.handles}
        ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout_s)
        answered = set()
        for h in self.handles:
            if refs[h.shard] in ready:
                try:
                    h.generation, self.rows[h.shard] = ray.get(refs[h.shard])
                    answered.add(h.shard)
                except Exception as err:  # noqa: BLE001 - a dead shard: asked again next time
                    h.generation = None
                    h.dead = self._died(err)
        self.epoch += 1
        pushed = {}
        for h in self.handles:
            if h.shard in answered:
                others = [r for s, found in self.rows.items() if s != h.shard for r in found]
                pushed[h.shard] = h.actor.set_others.remote(others, self.epoch)
        # Waited for: a threaded actor does not keep the order of calls.
        ready, _ = ray.wait(list(pushed.values()), num_returns=len(pushed), timeout=timeout_s)
        for h in self.handles:
            if h.shard in pushed and pushed[h.shard] not in ready:
                answered.discard(h.shard)
        self.stale = len(answered) < len(self.handles)

    def search(
        self, query: str, readable: frozenset[str] | None = None, **options
    ) -> ShardedSearchResponse:
        """api.search over every shard, with its keyword arguments (derived from its
        signature, so a new one reaches the shards; `client_gone` stays here: a callable
        does not travel) and `readable` for the snapshot's permission set. The same result,
        with `partial`, the `partial_shards` that did not answer in time, and `shards`."""
        start = time.perf_counter()
        args = _SEARCH.bind(None, query, **options)  # TypeError for an unknown argument
        args.apply_defaults()
        kept = {k: v for k, v in args.arguments.items() if k not in _NOT_SENT}
        limit, offset, context = kept.pop("limit"), kept.pop("offset"), kept["context"]
        max_lines, time_budget_ms = kept["max_lines"], kept["time_budget_ms"]
        if limit < 0 or offset < 0 or context < 0:
            raise api.QueryError("limit, offset and context must not be negative")
        parsed = parse(query)
        compile_plan(parsed)  # a malformed query fails here, not on every shard
        want = offset + limit if limit > 0 else 0
        # A shard's cut counts lines from its first result, one machine's from the page's:
        # the same bound only without an offset (past one, the merge alone cuts; the
        # search's own MAX_TOTAL_LINES still bounds what a shard renders).
        kept["max_lines"] = max_lines if offset == 0 else None
        options = kept
        names = sorted(readable) if readable is not None else None
        answers, missing = self._search_shards(query, want, options, names, time_budget_ms)
        out = merge(list(answers.values()), limit, offset, context, max_lines)
        out.offset, out.limit, out.type = offset, limit, parsed.type
        for name, value in coverage(missing, len(self.handles)).items():
            setattr(out, name, value)
        out.took_ms = round((time.perf_counter() - start) * 1000.0, 2)
        return out

    def _search_shards(self, query: str, want: int, options: dict, names, budget_ms: int):
        """Each shard's top results: first its share of the page (shard_want), then the whole
        `want` from the shards whose share was not enough, those whose last result sent is
        still inside the merged page (what follows it might be too). Exact: a shard's results
        past the last it sent rank below it."""
        start = time.perf_counter()
        share = shard_want(want, len(self.handles)) if self.share_first else want
        sent, missing = self._run("search", (query, share, options, names), budget_ms)
        answers = {s: out for s, (out, _more) in sent.items()}
        if share == want:
            return answers, missing
        page = sorted((r for a in answers.values() for r in a.results), key=_order)[:want]
        last = _order(page[-1]) if len(page) == want else None
        short = {
            s
            for s, (out, more) in sent.items()
            if more and (last is None or not out.results or _order(out.results[-1]) <= last)
        }
        if short:
            self.asked_again += len(short)
            left = max(1, budget_ms - round((time.perf_counter() - start) * 1000))
            again, gone = self._run("search", (query, want, options, names), left, short)
            answers.update({s: out for s, (out, _more) in again.items()})
            missing = missing + gone
        return answers, missing

    def symbols(
        self,
        query: str,
        kind: str | None = None,
        lang: str | None = None,
        limit: int = 50,
        readable: frozenset[str] | None = None,
        time_budget_ms: int = 10000,
    ) -> ShardedSymbolsResponse:
        """api.symbols over every shard (plus `partial`, `partial_shards`, `shards`); each
        shard's best `limit`, merged in the order one machine sorts."""
        start = time.perf_counter()
        if not query.strip():
            raise api.QueryError("empty symbol name", 0)
        check_name(query)
        names = sorted(readable) if readable is not None else None
        answers, missing = self._run("symbols", (query, kind, lang, limit, names), time_budget_ms)
        found = sorted((s for hits, _total in answers.values() for s in hits), key=_symbol_order)
        return ShardedSymbolsResponse(
            symbols=found[:limit] if limit > 0 else found,
            total=sum(total for _hits, total in answers.values()),
            took_ms=round((time.perf_counter() - start) * 1000.0, 2),
            **coverage(missing, len(self.handles)),
        )

    def readable_names(
        self, principal: Principal, time_budget_ms: int = 10000
    ) -> frozenset[str] | None:
        """The repos `principal` may read on any shard (each shard's access.py decides for
        its own repos); a shard that does not answer adds none. None when every shard
        answered that it is all of its repos: a reader of everything, shown what --auth none
        shows, as one machine shows it (Snapshot.restricted_to). Remembered per principal
        until a shard's generation moves."""
        key = (principal, tuple(h.generation for h in self.handles))
        if key in self.readers:
            return self.readers[key]
        answers, missing = self._run("readable", (principal,), time_budget_ms)
        found = frozenset(n for names, _all in answers.values() for n in names)
        if not missing and all(every for _names, every in answers.values()):
            found = None
        if not missing:
            if len(self.readers) >= MAX_PRINCIPALS:
                self.readers.clear()
            self.readers[(principal, tuple(h.generation for h in self.handles))] = found
        return found

    def owner(self, repo: str) -> str:
        """The shard that holds `repo` (rendezvous hashing over the layout's shards)."""
        if self._layout_moved():
            self.refresh()
        return owner(repo, self.layout.ids)

    def call(
        self,
        fn: Callable,
        args: tuple = (),
        readable: frozenset[str] | None = None,
        time_budget_ms: int = 10000,
        repo: str | None = None,
        merged: bool = True,
    ) -> ShardAnswers:
        """`fn(store, snap, *args)` on every shard, or only on the one holding `repo`
        (ShardSearcher.call): `fn` must be a module-level function (Ray sends it by name)."""
        names = sorted(readable) if readable is not None else None
        only = {self.owner(repo)} if repo is not None else None
        found, missing = self._run("call", (fn, args, names, merged), time_budget_ms, only)
        failures = {s: v for s, v in found.items() if isinstance(v, ShardFailure)}
        answers = {s: v for s, v in found.items() if s not in failures}
        return ShardAnswers(answers, failures, missing, len(self.handles) if only is None else 1)

    def shard_count(self) -> int:
        return len(self.handles)

    def generations(self) -> tuple[tuple[str, int | None], ...]:
        """Each shard's generation (None: a shard that did not answer), refreshed first when
        a shard is known to have moved: a key for what the caller derives from every
        shard's state (the status' blob totals, the dedup report's freshness)."""
        if self.stale or self._layout_moved():
            self.refresh()
        return tuple((h.shard, h.generation) for h in self.handles)

    def footprints(self, time_budget_ms: int = 10000) -> dict[str, dict]:
        """shard -> ShardSearcher.footprint() (for capacity planning; bench/cluster_bench.py)."""
        answers, _missing = self._run("footprint", (), time_budget_ms)
        return answers

    def _run(
        self, method: str, args: tuple, budget_ms: int, shards: set[str] | None = None
    ) -> tuple[dict[str, object], list[str]]:
        """Each shard's answer to `method(*args)` within the budget (only `shards`, when
        given), and the shards that gave none. A shard re-indexed since the last refresh means
        the other shards scored with its old last-commit times: once more with fresh rows, so
        the answer stays exact."""
        for _attempt in range(2):
            if self.stale or self._layout_moved():
                self.refresh(min(5.0, budget_ms / 2000))
            asked = [h for h in self.handles if shards is None or h.shard in shards]
            answers, missing, moved, unset = self._fan_out(method, args, budget_ms, asked)
            if not moved:
                break
            self.stale = True
        # Still without the other shards' rows after the refresh: its answer is not one
        # machine's, so it is left out and named (partial) rather than merged.
        for shard in unset:
            del answers[shard]
        return answers, missing + unset

    def _fan_out(self, method: str, args: tuple, budget_ms: int, asked: list[ShardHandle]):
        refs = {getattr(h.actor, method).remote(*args): h for h in asked}
        ready, _ = self.ray.wait(
            list(refs), num_returns=len(refs), timeout=(budget_ms + GRACE_MS) / 1000
        )
        missing, moved = [h.shard for r, h in refs.items() if r not in ready], False
        try:
            # One get for all (a get per shard measured the same: bench/cluster_bench.py).
            found = self.ray.get(ready)
        except Exception:  # noqa: BLE001 - a node died: ask each, to say which shards
            found = []
            for ref in ready:
                try:
                    found.append(self.ray.get(ref))
                except Exception as err:  # noqa: BLE001 - that shard's node or actor died
                    missing.append(refs[ref].shard)
                    refs[ref].dead = self._died(err)
                    self.stale = True
        by_shard = {h.shard: h for h in asked}
        answers, unset = {}, []
        for shard, generation, payload in found:
            moved = moved or generation != by_shard[shard].generation
            if generation == UNSET:
                unset.append(shard)
            answers[shard] = payload
        return answers, missing, moved, unset

    def _died(self, err: Exception) -> bool:
        """Whether `err` says the actor is gone for good (not a node that left: that is
        _replace_lost's own check)."""
        return isinstance(err, self.ray.exceptions.RayActorError)

    def _layout_moved(self) -> bool:
        """Whether DATA/cluster.json changed (shards added) since the layout was read."""
        try:
            stamp = (self.layout.root / LAYOUT_FILE).stat().st_mtime_ns
        except OSError:
            return False
        if self.layout_stamp is None:
            self.layout_stamp = stamp
        return stamp != self.layout_stamp

    def hooks(self):
        """The webhook queue of this DATA dir (cluster/hooks.py's ClusterHooks), started at
        the first delivery with the token variables the remembered sources name."""
        if self._hooks is None:
            from .hooks import ClusterHooks
            from .index import remembered_token_env

            root = self.layout.root
            self._hooks = ClusterHooks.open(self.address, root, lambda: remembered_token_env(root))
        return self._hooks

    def recent_hooks(self) -> list[HookRow]:
        """The webhook queue's newest deliveries, for the status's webhook fields: read from
        its catalog (opened once, after the first delivery made it), so a status needs no
        live queue; none before that."""
        if self._hooks_catalog is None:
            path = hooks_path(self.layout.root)
            if not path.exists():
                return []
            self._hooks_catalog = Catalog(path)
        with self._hooks_catalog.read() as r:
            return r.recent_hooks()

    def close(self) -> None:
        """Stop the shard actors and the webhook queue (they are shared and detached: only
        the owner of the deployment, a test or a benchmark, ends them)."""
        from .hooks import queue_name

        for h in self.handles:
            self.ray.kill(h.actor)
        with contextlib.suppress(ValueError):  # no queue: no delivery came
            self.ray.kill(self.ray.get_actor(queue_name(self.layout.root), namespace="innersearch"))
        if self._hooks_catalog is not None:
            self._hooks_catalog.close()


def actor_name(root, shard: str) -> str:
    digest = hashlib.blake2b(str(root).encode(), digest_size=6).hexdigest()
    return f"shard-{digest}-{shard}"


def _order(r) -> tuple:
    # rank.order_key on the rounded score: the order one machine returns.
    return (-r.score, r.repo, r.path, r.branch)


def shard_want(want: int, shards: int) -> int:
    """What each shard is asked for first: twice its share of the page, at least
    MIN_SHARD_WANT (never more than the page; 0, every result, stays 0). With 4 shards and
    20 results, 10 each: each shard verifies and renders half of what the page needs. When
    the results spread evenly over the shards, one holds more than 10 of the top 20 in about
    1 query of 60 and is asked again; results all in one repo (one shard) ask it twice."""
    if want == 0:
        return 0
    return min(want, max(MIN_SHARD_WANT, -(-2 * want // shards)))


def _symbol_order(s: SymbolHit) -> tuple:
    # symbols.search_symbols' order.
    return (-s.score, s.name, s.repo, s.path, s.branch, s.line)


def merge(
    answers: list[SearchResponse], limit: int, offset: int, context: int, max_lines
) -> ShardedSearchResponse:
    """One page from the shards' pages: by score, then the rendered-lines cut again over
    the merged page (each shard cut only its own page)."""
    results = sorted((r for a in answers for r in a.results), key=_order)
    page = results[offset : offset + limit] if limit > 0 else results[offset:]
    truncated = any(a.truncated for a in answers)
    if max_lines is not None:
        kept, rendered = [], 0
        for item in page:
            room = (max_lines - rendered) // (1 + 2 * context)
            if room <= 0:
                truncated = True
                break
            if len(item.line_matches) > room:
                item = dataclasses.replace(item, line_matches=item.line_matches[:room])
                truncated = True
            rendered += len(item.line_matches) * (1 + 2 * context)
            kept.append(item)
        page = kept
    facets = Facets()
    for a in answers:
        for mine, theirs in ((facets.repo, a.facets.repo), (facets.lang, a.facets.lang)):
            for k, n in theirs.items():
                mine[k] = mine.get(k, 0) + n
    return ShardedSearchResponse(
        results=page,
        total_files=sum(a.total_files for a in answers),
        total_matches=sum(a.total_matches for a in answers),
        limit_hit=any(a.limit_hit for a in answers) or truncated,
        facets=facets,
        # Only a content search has the field (one machine's shape).
        truncated=truncated if any(a.truncated is not None for a in answers) else None,
    )
