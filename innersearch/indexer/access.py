"""Who may read which repository: the one place that decides (docs/architecture.md, "Access").

A repo from a code host follows what the host said (repos.info["host"]) plus the `[access]`
rules of the config; a local repo follows the rules and their default.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import RepoRow

ADMIN_GROUP = "admin"  # sees every repository
DEFAULTS = ("everyone", "nobody")
OPEN_VISIBILITIES = ("public", "internal")  # readable by every signed-in user


class AccessConfigError(ValueError):
    """An `[access]` table that cannot be applied; nothing is changed when it is refused."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user a request acts for, with the groups they belong to."""

    user: str
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


@dataclass(frozen=True)
class Rule:
    repos: tuple[str, ...]  # globs over repo names
    groups: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()

    def matches(self, repo: str) -> bool:
        return any(fnmatch.fnmatchcase(repo, pattern) for pattern in self.repos)


@dataclass(frozen=True)
class AccessRules:
    """The `[access]` table of the config: `default` for repos no rule matches, and rules."""

    default: str = "everyone"
    rules: tuple[Rule, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "default": self.default,
                "rules": [
                    {"repos": list(r.repos), "groups": sorted(r.groups), "users": sorted(r.users)}
                    for r in self.rules
                ],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> AccessRules:
        return cls.from_table(json.loads(text), "catalog") if text else cls()

    @classmethod
    def from_table(cls, table: object, where: str) -> AccessRules:
        """The rules of one `[access]` table; AccessConfigError says what is wrong."""
        if not isinstance(table, Mapping):
            raise AccessConfigError(f"{where}: [access] must be a table")
        unknown = set(table) - {"default", "rules"}
        if unknown:
            raise AccessConfigError(f"{where}: unknown [access] keys: {', '.join(sorted(unknown))}")
        default = table.get("default", "everyone")
        if default not in DEFAULTS:
            raise AccessConfigError(
                f'{where}: [access] default must be "everyone" or "nobody", got {default!r}'
            )
        raw_rules = table.get("rules", [])
        if not isinstance(raw_rules, list):
            raise AccessConfigError(f"{where}: [[access.rules]] must be a list of tables")
        rules = [_rule(entry, f"{where}: access.rules[{i}]") for i, entry in enumerate(raw_rules)]
        return cls(default, tuple(rules))


def _names(entry: Mapping, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise AccessConfigError(f"{where}: `{key}` must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _rule(entry: object, where: str) -> Rule:
    if not isinstance(entry, Mapping):
        raise AccessConfigError(f"{where} must be a table")
    unknown = set(entry) - {"repos", "groups", "users"}
    if unknown:
        raise AccessConfigError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    repos = _names(entry, "repos", where)
    if not repos:
        raise AccessConfigError(f"{where}: `repos` must name at least one glob")
    groups, users = _names(entry, "groups", where), _names(entry, "users", where)
    if not groups and not users:
        # A rule naming no reader would silently lock its repos for everyone but admins.
        raise AccessConfigError(f"{where}: name the `groups` or `users` who may read {repos}")
    return Rule(repos, frozenset(groups), frozenset(users))


def rules_from_sources(sources: Iterable[str]) -> AccessRules:
    """The `[access]` tables of the .toml configs among an index run's sources, combined:
    every rule counts, and one "nobody" default makes the default "nobody"."""
    default, rules = "everyone", []
    for source in sources:
        path = Path(source).expanduser()
        if path.suffix != ".toml" or not path.is_file():
            continue
        try:
            config = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
            raise AccessConfigError(f"{path}: not a valid TOML config: {err}") from err
        if "access" not in config:
            continue
        found = AccessRules.from_table(config["access"], str(path))
        default = "nobody" if found.default == "nobody" else default
        rules.extend(found.rules)
    return AccessRules(default, tuple(rules))


@dataclass(frozen=True)
class Readers:
    """Who may read one repo: everyone signed in, or these users and groups (and admins)."""

    everyone: bool
    users: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    def admit(self, principal: Principal) -> bool:
        return (
            self.everyone
            or principal.is_admin
            or principal.user in self.users
            or not self.groups.isdisjoint(principal.groups)
        )


def _host_info(repo: RepoRow) -> dict | None:
    host = (repo.info or {}).get("host") if isinstance(repo.info, dict) else None
    return host if isinstance(host, dict) else None


def _strings(value: object) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, str) and v)


def readers_of(repo: RepoRow, rules: AccessRules) -> Readers:
    """The decision for one repo. A host repo: public and internal ones are open, private
    ones (and any visibility we do not know: fail closed) go to the readers the host lists
    plus the matching rules. A local repo: the matching rules, else the default."""
    matching = [r for r in rules.rules if r.matches(repo.name)]
    users = frozenset().union(*(r.users for r in matching))
    groups = frozenset().union(*(r.groups for r in matching))
    host = _host_info(repo)
    if host is not None:
        if host.get("visibility") in OPEN_VISIBILITIES:
            return Readers(True)
        readers = host.get("readers") if isinstance(host.get("readers"), dict) else {}
        return Readers(
            False, users | _strings(readers.get("users")), groups | _strings(readers.get("groups"))
        )
    if matching:
        return Readers(False, users, groups)
    return Readers(rules.default == "everyone")


def readable(principal: Principal, repo: RepoRow, rules: AccessRules) -> bool:
    """May `principal` read `repo`? (The question every route's snapshot is filtered by.)"""
    return readers_of(repo, rules).admit(principal)
