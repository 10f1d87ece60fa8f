"""The packages of the demo organization, chosen so that every feature shows on first use.

Versions are pinned (oldest first, one commit each) so the demo is the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPackage:
    """One repository of the demo organization, made from a package's release archives."""

    repo: str  # the repository's name in the organization
    registry: str  # "pypi" (sdists) or "npm" (package tarballs)
    name: str  # the package's name on that registry
    versions: tuple[str, ...]  # oldest first; each becomes one commit
    category: str  # what it does: repos of one category are parallel implementations
    team: str | None = None  # adds a synthetic CODEOWNERS + CONTRIBUTING commit for this team


# What each group shows:
# - poetry-core vendors packaging, tomli and fastjsonschema (src/poetry/core/_vendor/), whose
#   originals are in the org too: vendored copies and cross-repo clones.
# - @colors/colors is the fork of colors: a fork under another name.
# - three Python and three JavaScript retry libraries, four colour libraries, two TOML parsers:
#   parallel implementations. async-retry is built on retry: "uses", not a copy.
PACKAGES: tuple[DemoPackage, ...] = (
    DemoPackage(
        "py-poetry-core", "pypi", "poetry-core", ("1.9.0", "1.9.1"), "packaging", team="build-tools"
    ),
    DemoPackage(
        "py-packaging", "pypi", "packaging", ("23.1", "23.2"), "packaging", team="build-tools"
    ),
    DemoPackage("py-tomli", "pypi", "tomli", ("2.0.0", "2.0.1"), "toml"),
    DemoPackage("py-tomlkit", "pypi", "tomlkit", ("0.12.5", "0.13.2"), "toml"),
    DemoPackage("py-fastjsonschema", "pypi", "fastjsonschema", ("2.19.0", "2.19.1"), "json-schema"),
    DemoPackage("py-tenacity", "pypi", "tenacity", ("8.2.3", "8.3.0"), "retry", team="reliability"),
    DemoPackage("py-retrying", "pypi", "retrying", ("1.3.3", "1.3.4"), "retry"),
    DemoPackage("py-backoff", "pypi", "backoff", ("2.1.2", "2.2.1"), "retry"),
    DemoPackage("py-termcolor", "pypi", "termcolor", ("2.3.0", "2.4.0"), "terminal-color"),
    DemoPackage("py-colorama", "pypi", "colorama", ("0.4.5", "0.4.6"), "terminal-color"),
    DemoPackage("js-colors", "npm", "colors", ("1.3.3", "1.4.0"), "terminal-color"),
    DemoPackage(
        "js-colors-fork",
        "npm",
        "@colors/colors",
        ("1.5.0", "1.6.0"),
        "terminal-color",
        team="frontend-platform",
    ),
    DemoPackage("js-kleur", "npm", "kleur", ("4.1.4", "4.1.5"), "terminal-color"),
    DemoPackage("js-colorette", "npm", "colorette", ("2.0.19", "2.0.20"), "terminal-color"),
    DemoPackage("js-retry", "npm", "retry", ("0.12.0", "0.13.1"), "retry"),
    DemoPackage(
        "js-async-retry", "npm", "async-retry", ("1.3.1", "1.3.3"), "retry", team="reliability"
    ),
    DemoPackage("js-p-retry", "npm", "p-retry", ("6.2.0", "6.2.1"), "retry"),
    DemoPackage("js-ms", "npm", "ms", ("2.1.2", "2.1.3"), "durations"),
)


# Printed by `make demo` once the organization is indexed: each shows a feature on its first
# screen (query, what it shows).
TOUR: tuple[tuple[str, str], ...] = (
    ("sym:Version", "packaging's Version class, and its vendored copy inside poetry-core"),
    (r"/def retry\w*\(/ lang:python", "retry decorators of three Python retry libraries"),
    ("bgRed", "one colour API in four JavaScript libraries, colors and its fork among them"),
)
