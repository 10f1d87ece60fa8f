"""The sources of one shard, written as an ordinary innersearch .toml config.

Each shard's index run is today's `index_sources` over this config: the shard's own repos
(one `url` entry each, with their branches and path excludes), the code-host sources with
the other shards' repos excluded, and the run's `[access]` rules; so a repo that moved to
another shard is removed from this one by the usual rule (the sources are the complete set).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from innersearch.indexer import access
from innersearch.indexer.sources import RepoSource, host_source

_HOST_SHORTHAND = re.compile(r"^(github|gitlab|gitea|bitbucket):([\w.-][\w./-]*)$")


def host_entries(sources: list[str]) -> tuple[list[dict], list[str]]:
    """The code-host `[[sources]]` entries among the run's sources (shorthands and config
    entries), and the configs' repo-level `exclude` patterns (they also apply to them)."""
    entries: list[dict] = []
    excludes: list[str] = []
    for source in sources:
        path = Path(source).expanduser()
        found = _HOST_SHORTHAND.match(source)
        if found and not path.exists():
            entries.append({found[1]: found[2]})
        elif path.is_file() and path.suffix == ".toml":
            config = tomllib.loads(path.read_text())
            for entry in config.get("sources", []):
                if host_source(entry) is not None:
                    extra = list(config.get("exclude_paths", []))
                    entry = dict(entry)
                    entry["exclude_paths"] = list(entry.get("exclude_paths", [])) + extra
                    entries.append(entry)
            excludes.extend(str(p) for p in config.get("exclude", []))
    return entries, excludes


def repo_tables(sources: list[str]) -> dict[str, dict]:
    """The configs' `[repos.NAME]` tables (extra branches of host repos)."""
    out: dict[str, dict] = {}
    for source in sources:
        path = Path(source).expanduser()
        if path.is_file() and path.suffix == ".toml":
            for name, table in tomllib.loads(path.read_text()).get("repos", {}).items():
                out.setdefault(name, table)
    return out


def shard_config(
    own: list[RepoSource],
    elsewhere: list[str],
    hosts: list[dict],
    host_excludes: list[str],
    repos: dict[str, dict],
    rules: access.AccessRules,
    unreadable: list[str] | None = None,
) -> str:
    """The TOML text of one shard's sources. `unreadable`: sources the coordinator could
    not read, named again so that the shard's run sees the same problem and, as on one
    machine, removes no repo."""
    lines: list[str] = []
    glob_free = [fnmatch_escape(n) for n in sorted(elsewhere)]
    if hosts:
        lines.append(f"exclude = {_value(host_excludes + glob_free)}")
    for src in own:
        if src.host is not None:
            continue  # listed again from its host entry, with its host details
        lines += ["", "[[sources]]", f"url = {_value(src.url)}", f"name = {_value(src.name)}"]
        if src.branches:
            lines.append(f"branches = {_value(src.branches)}")
        if src.exclude_paths:
            lines.append(f"exclude_paths = {_value(src.exclude_paths)}")
    for entry in hosts:
        lines += ["", "[[sources]]"]
        lines += [f"{key} = {_value(value)}" for key, value in entry.items()]
    for source in unreadable or []:
        lines += ["", "[[sources]]", f"path = {_value(source)}"]
    mine = {s.name for s in own}
    for name, table in sorted(repos.items()):
        if name in mine:
            lines += ["", f"[repos.{_value(name)}]"]
            lines += [f"{key} = {_value(value)}" for key, value in table.items()]
    table = json.loads(rules.to_json())
    lines += ["", "[access]", f"default = {_value(table['default'])}"]
    for rule in table["rules"]:
        lines += ["", "[[access.rules]]"]
        lines += [f"{key} = {_value(value)}" for key, value in rule.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def fnmatch_escape(name: str) -> str:
    """A glob matching exactly `name` (the config's `exclude` takes globs)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _value(value: object) -> str:
    # JSON strings, numbers, booleans and arrays of them are valid TOML values.
    if isinstance(value, bool | int | float | str) or (
        isinstance(value, list) and all(isinstance(v, str | int | bool) for v in value)
    ):
        return json.dumps(value, ensure_ascii=False)
    raise ValueError(f"cannot write {value!r} into a shard config")
