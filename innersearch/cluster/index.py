"""`innersearch index --ray`: each shard's repos are mirrored, parsed and written by one Ray
task on the node that owns the shard; a repo (or a whole node) that fails does not fail the run.

The coordinator resolves the sources once, assigns repos to shards (shards.py), writes each
shard's sources as a config (shardconfig.py) and runs today's `index_sources` per shard.
Progress lines from every node reach the coordinator through a small actor.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from innersearch.indexer import access, layout
from innersearch.indexer.credentials import redact
from innersearch.indexer.run import RepoOutcome, RunSummary, index_sources
from innersearch.indexer.sources import host_source, resolve

from . import connect, placement
from .shardconfig import host_entries, repo_tables, shard_config
from .shards import ShardLayout, assign

POLL_S = 0.2


@dataclass
class ShardRun:
    shard: str
    node: str  # Ray node id the task was placed on
    repos: list[str]
    summary: RunSummary | None = None
    error: str = ""  # the task itself failed (its node died, the worker crashed)


@dataclass
class ClusterSummary:
    """One cluster index run: per shard, where it ran and how; outcomes of every repo."""

    shards: list[ShardRun] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def outcomes(self) -> list[RepoOutcome]:
        out: list[RepoOutcome] = []
        for run in self.shards:
            if run.summary is not None:
                out += run.summary.outcomes
            else:  # the shard's repos keep their last committed state
                why = f"shard {run.shard}: {run.error}"
                out += [RepoOutcome(n, "error", why) for n in run.repos]
        return sorted(out, key=lambda o: o.name)

    @property
    def failed(self) -> list[RepoOutcome]:
        return [o for o in self.outcomes if o.status == "error"]

    @property
    def failed_shards(self) -> list[str]:
        return [r.shard for r in self.shards if r.summary is None]

    @property
    def problems(self) -> list:
        seen: dict[tuple[str, str], object] = {}
        for run in self.shards:
            for p in run.summary.problems if run.summary else []:
                seen.setdefault((p.source, p.message), p)
        return list(seen.values())

    def total(self, name: str) -> int:
        return sum(getattr(r.summary, name) for r in self.shards if r.summary)


class _Progress:
    """Lines said by the shard tasks, collected for the coordinator (a Ray actor)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        self.lines.append(line)

    def drain(self) -> list[str]:
        out, self.lines = self.lines, []
        return out


def _index_shard(
    shard: str, root: str, config: str, progress, only: list[str] | None = None
) -> RunSummary:
    """One shard's index run, on its node: today's indexer over the shard's config (`only`:
    just these repos, as one machine's sync indexes a webhook push)."""
    data = ShardLayout(Path(root), (shard,)).data(shard)

    def say(line: str) -> None:
        progress.say.remote(f"[{shard}] {line}")

    say(f"indexing on node {os.uname().nodename} (pid {os.getpid()})")
    summary = index_sources(data, [config], say=say, only=None if only is None else set(only))
    say(f"{len(summary.outcomes)} repos, {len(summary.failed)} failed, {summary.seconds:.1f} s")
    return summary


def index_cluster(
    address: str,
    data: layout.DataDir,
    sources: list[str] | None,
    shards: int | None = None,
    say: Callable[[str], None] = print,
) -> ClusterSummary:
    """Index `sources` into the shards of `data` over the Ray cluster at `address`."""
    started = time.monotonic()
    found = ShardLayout.load(data.root)
    sources = _remembered(data, sources)
    shard_layout = ShardLayout.ensure(data.root, shards or (len(found.ids) if found else None))
    repos, problems = resolve(sources)
    for problem in problems:
        say(f"skipped source {problem.source}: {problem.message}")
    unreadable = _unreadable(problems)
    names = [r.name for r in repos]
    owned = assign(names, shard_layout.ids)
    by_name = {r.name: r for r in repos}
    hosts, host_excludes = host_entries(sources)
    tables = repo_tables(sources)
    rules = access.rules_from_sources(sources)
    configs: dict[str, str] = {}
    for sid, mine in owned.items():
        path = shard_layout.root / "shards" / f"{sid}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        others = [n for n in names if n not in set(mine)]
        text = shard_config(
            [by_name[n] for n in mine], others, hosts, host_excludes, tables, rules, unreadable
        )
        path.write_text(text)
        configs[sid] = str(path)
    return _run_shards(
        address, shard_layout, owned, configs, _token_env(hosts), say, started, only=False
    )


def index_repos_cluster(
    address: str,
    data: layout.DataDir,
    repos: set[str],
    say: Callable[[str], None] = print,
) -> ClusterSummary:
    """Re-index just `repos` (webhook pushes), each on the node of the shard that owns it,
    by the shard's config of the last `index --ray`: one machine's `index_sources(only=)`
    per shard, so an unknown name indexes nothing and nothing is removed."""
    started = time.monotonic()
    shard_layout = ShardLayout.load(data.root)
    if shard_layout is None:
        raise ValueError(f"{data.root}: no cluster index (run `innersearch index --ray`)")
    owned = {s: names for s, names in assign(repos, shard_layout.ids).items() if names}
    configs = {sid: str(shard_layout.root / "shards" / f"{sid}.toml") for sid in owned}
    missing = [sid for sid, path in configs.items() if not Path(path).is_file()]
    if missing:  # a shard added to the layout but never indexed: the next full run does
        raise ValueError(f"shards {', '.join(missing)} have no config yet (run `index --ray`)")
    hosts, _excludes = host_entries(_remembered(data, None))
    return _run_shards(
        address, shard_layout, owned, configs, _token_env(hosts), say, started, only=True
    )


def _run_shards(
    address: str,
    shard_layout: ShardLayout,
    owned: dict[str, list[str]],
    configs: dict[str, str],
    env: dict | None,
    say: Callable[[str], None],
    started: float,
    only: bool,
) -> ClusterSummary:
    """One Ray task per shard of `owned` on the shard's node (`only`: just its repos of
    `owned`, else all of its config), progress relayed to `say`, each task's outcome kept."""
    ray = connect(address)
    nodes = placement.nodes(ray)
    # On the coordinator's own node: progress must not die with a worker node.
    here = ray.get_runtime_context().get_node_id()
    progress = (
        ray.remote(num_cpus=0)(_Progress)
        .options(scheduling_strategy=placement.on_node(ray, here))
        .remote()
    )
    task = ray.remote(num_cpus=1, max_retries=0)(_index_shard)
    runs: dict[object, ShardRun] = {}
    where = placement.place(list(shard_layout.ids), nodes)
    for sid in owned:
        node = where[sid]
        ref = task.options(
            scheduling_strategy=placement.on_node(ray, node), runtime_env=env
        ).remote(sid, str(shard_layout.root), configs[sid], progress, owned[sid] if only else None)
        runs[ref] = ShardRun(sid, node, owned[sid])
    repos = sum(len(names) for names in owned.values())
    say(f"{repos} repos over {len(owned)} shards on {len(nodes)} nodes")
    pending = list(runs)
    while pending:
        done, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
        for line in ray.get(progress.drain.remote()):
            say(line)
        for ref in done:
            try:
                runs[ref].summary = ray.get(ref)
            except Exception as err:  # noqa: BLE001 - a node or worker died: report, go on
                runs[ref].error = _reason(err)
                say(f"[{runs[ref].shard}] failed: {runs[ref].error}")
    for line in ray.get(progress.drain.remote()):
        say(line)
    ray.kill(progress)
    return ClusterSummary(sorted(runs.values(), key=lambda r: r.shard), time.monotonic() - started)


def _unreadable(problems: list) -> list[str]:
    """Local sources that gave a problem and name no repo (missing, empty, not a repo):
    each shard is given them too, so that its run, like one machine's, removes nothing.
    (A code-host source that failed is in every shard's config already.)"""
    out = set()
    for problem in problems:
        path = Path(problem.source).expanduser()
        if "://" in problem.source or path.suffix == ".toml":
            continue
        if not path.exists() or not resolve([problem.source])[0]:
            out.add(problem.source)
    return sorted(out)


def remembered_token_env(root: Path) -> dict | None:
    """_token_env of the sources the last `index --ray` remembered (none: nothing to send)."""
    try:
        sources = _remembered(layout.DataDir(root), None)
    except ValueError:
        return None
    return _token_env(host_entries(sources)[0])


def _token_env(hosts: list[dict]) -> dict | None:
    """The code hosts' token variables set here, for the shard tasks' environment (a node
    whose own environment has them needs nothing sent: set them at its `ray start`)."""
    names = {host_source(entry).token_env for entry in hosts}
    found = {n: os.environ[n] for n in sorted(names) if os.environ.get(n)}
    return {"env_vars": found} if found else None


def _reason(err: Exception) -> str:
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first}"[:300]


def _remembered(data: layout.DataDir, sources: list[str] | None) -> list[str]:
    """The sources (absolute), remembered in DATA/cluster-sources.json like one machine's."""
    path = data.root / "cluster-sources.json"
    if sources:
        sources = [os.path.abspath(s) if os.path.exists(s) else s for s in sources]
        data.root.mkdir(parents=True, exist_ok=True)
        # Without credentials, as one machine remembers them (a later run gets them from a
        # credential helper).
        path.write_text(json.dumps([redact(s) for s in sources]) + "\n")
        return sources
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError("no SOURCE given and none remembered from an earlier run") from None
