"""Turning cached release archives into the demo organization's git repositories.

Each version of a package becomes one commit (oldest first); a repo is built in NAME.partial
and renamed when complete, so an interrupted build is redone, never half-used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .fetch import Problem, archive_path
from .packages import DemoPackage

DEMO_AUTHOR = ("innersearch demo", "demo@innersearch.invalid")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": DEMO_AUTHOR[0],
    "GIT_AUTHOR_EMAIL": DEMO_AUTHOR[1],
    "GIT_COMMITTER_NAME": DEMO_AUTHOR[0],
    "GIT_COMMITTER_EMAIL": DEMO_AUTHOR[1],
    "GIT_CONFIG_GLOBAL": os.devnull,  # the user's hooks, signing or templates do not apply
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class BuildReport:
    """What a build made: the repos now present and the problems skipped on the way."""

    built: list[str] = field(default_factory=list)  # newly built repos
    cached: list[str] = field(default_factory=list)  # repos already there from a former build
    problems: list[Problem] = field(default_factory=list)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **_GIT_ENV},
        check=True,
        capture_output=True,
    )


def _extract(archive: Path, dest: Path) -> Path:
    """Extract a release archive safely and return its root (the single top directory that
    sdists and npm tarballs wrap their files in). Raises ValueError for a bad archive."""
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise ValueError(f"unsafe path in archive: {name}")
                zf.extractall(dest)
        else:
            with tarfile.open(archive) as tf:
                # "data" refuses absolute paths, "..", links leaving the tree and devices.
                tf.extractall(dest, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise ValueError(f"unreadable archive {archive.name}: {err}") from err
    entries = list(dest.iterdir())
    if not entries:
        raise ValueError(f"empty archive {archive.name}")
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest


def _replace_tree(repo: Path, source: Path) -> None:
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    for child in source.iterdir():
        if child.name == ".git":
            continue  # an archive's own .git would corrupt ours
        shutil.move(str(child), repo / child.name)


def _commit_all(repo: Path, message: str) -> None:
    # -f: packages ship .gitignore files that would hide some of their own released files.
    _git(repo, "add", "-A", "-f", ".")
    _git(repo, "commit", "-q", "--allow-empty", "-m", message)


def _commit_version(repo: Path, pkg: DemoPackage, version: str, archive: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="demo-extract-") as tmp:
        _replace_tree(repo, _extract(archive, Path(tmp)))
    _commit_all(repo, f"{pkg.name} {version} (release archive from {pkg.registry})")


def _synthetic_team_files(repo: Path, pkg: DemoPackage) -> None:
    """CODEOWNERS and CONTRIBUTING for the owners and contribution-guide features; marked as
    made up wherever they are read."""
    assert pkg.team is not None
    owners = repo / ".github" / "CODEOWNERS"
    if not owners.exists():
        owners.parent.mkdir(exist_ok=True)
        owners.write_text(
            "# Synthetic, added by innersearch's demo builder: not part of the package.\n"
            f"* @acme/{pkg.team}\n"
        )
    guide = repo / "CONTRIBUTING.md"
    if not guide.exists():
        guide.write_text(
            f"# Contributing to {pkg.name} at Acme\n\n"
            "Synthetic, added by innersearch's demo builder: not part of the package.\n\n"
            f"The @acme/{pkg.team} team owns this repository and welcomes pull requests.\n"
            "Open an issue first for larger changes; every change needs a test.\n"
        )
    _commit_all(
        repo, "demo: synthetic CODEOWNERS and CONTRIBUTING (made up by innersearch, not upstream)"
    )


def build_repo(pkg: DemoPackage, archive_dir: Path, repos_dir: Path) -> list[Problem]:
    """Build one repo from its cached archives; a version whose archive is missing or broken
    is skipped and reported. The repo is left out when no version could be committed."""
    problems: list[Problem] = []
    partial = repos_dir / f"{pkg.repo}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    _git(partial, "init", "-q", "-b", "main")
    committed = 0
    for version in pkg.versions:
        archive = archive_path(archive_dir, pkg, version)
        if archive is None:
            problems.append(Problem(pkg.repo, version, "no archive (not downloaded)"))
            continue
        try:
            _commit_version(partial, pkg, version, archive)
        except ValueError as err:
            problems.append(Problem(pkg.repo, version, str(err)))
            continue
        committed += 1
    if committed == 0:
        shutil.rmtree(partial)
        problems.append(Problem(pkg.repo, "-", "left out of the organization: no version built"))
        return problems
    if pkg.team:
        _synthetic_team_files(partial, pkg)
    partial.rename(repos_dir / pkg.repo)
    return problems


def build_org(
    packages: tuple[DemoPackage, ...] | list[DemoPackage], archive_dir: Path, repos_dir: Path
) -> BuildReport:
    """Build every repo not built yet and remove repos no longer listed (the directory is
    the builder's own), so the directory holds exactly the listed organization."""
    report = BuildReport()
    repos_dir.mkdir(parents=True, exist_ok=True)
    wanted = {pkg.repo for pkg in packages}
    for child in repos_dir.iterdir():
        if child.is_dir() and child.name not in wanted:
            shutil.rmtree(child)
    for pkg in packages:
        if (repos_dir / pkg.repo / ".git").is_dir():
            report.cached.append(pkg.repo)
            continue
        problems = build_repo(pkg, archive_dir, repos_dir)
        report.problems.extend(problems)
        if (repos_dir / pkg.repo).is_dir():
            report.built.append(pkg.repo)
    return report
