"""Downloading the demo packages' release archives from PyPI and the npm registry.

Reads each registry's documented JSON API (PyPI's Simple API `/simple/NAME/` as JSON, npm
`/NAME/VERSION`), downloads the sdist or tarball, checks its digest and caches it; a package
that cannot be had is reported and the others go on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .packages import DemoPackage

PYPI_URL = os.environ.get("INNERSEARCH_DEMO_PYPI_URL", "https://pypi.org")
NPM_URL = os.environ.get("INNERSEARCH_DEMO_NPM_URL", "https://registry.npmjs.org")
TIMEOUT_S = 60
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


@dataclass(frozen=True)
class Problem:
    """A package version that could not be downloaded or built: reported, then skipped."""

    repo: str
    version: str
    message: str

    def __str__(self) -> str:
        return f"{self.repo} {self.version}: {self.message}"


@dataclass(frozen=True)
class _Download:
    url: str
    algorithm: str  # a hashlib name
    digest: bytes


def archive_path(archive_dir: Path, pkg: DemoPackage, version: str) -> Path | None:
    """The cached archive of one version, or None when it has not been downloaded."""
    for suffix in ARCHIVE_SUFFIXES:
        path = archive_dir / pkg.repo / f"{version}{suffix}"
        if path.is_file():
            return path
    return None


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
        return json.load(resp)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _pypi_sdist(pkg: DemoPackage, version: str, pypi_url: str) -> _Download:
    """The sdist of one release, from the Simple API's JSON form (PEP 691), which PyPI and
    its mirrors serve."""
    request = urllib.request.Request(
        f"{pypi_url}/simple/{_normalized(pkg.name)}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
        files = json.load(resp).get("files", [])
    for entry in files:
        filename = str(entry.get("filename", ""))
        suffix = next((s for s in (".tar.gz", ".zip") if filename.endswith(s)), None)
        sha256 = entry.get("hashes", {}).get("sha256")
        if suffix is None or not sha256 or "-" not in filename:
            continue
        name, _, file_version = filename[: -len(suffix)].rpartition("-")
        if _normalized(name) == _normalized(pkg.name) and file_version == version:
            return _Download(entry["url"], "sha256", bytes.fromhex(sha256))
    raise ValueError("the release has no source distribution")


def _npm_tarball(pkg: DemoPackage, version: str, npm_url: str) -> _Download:
    name = urllib.parse.quote(pkg.name, safe="@")  # a scoped name keeps its @, escapes its /
    dist = _get_json(f"{npm_url}/{name}/{version}").get("dist", {})
    integrity = str(dist.get("integrity", ""))
    if integrity.startswith("sha512-"):
        return _Download(dist["tarball"], "sha512", base64.b64decode(integrity[7:]))
    if dist.get("shasum"):
        return _Download(dist["tarball"], "sha1", bytes.fromhex(dist["shasum"]))
    raise ValueError("the registry gives no tarball with a digest")


def _suffix(url: str) -> str:
    path = urllib.parse.urlparse(url).path
    for suffix in ARCHIVE_SUFFIXES:
        if path.endswith(suffix):
            return suffix
    raise ValueError(f"not a .tar.gz, .tgz or .zip archive: {path.rsplit('/', 1)[-1]}")


def download_one(
    pkg: DemoPackage, version: str, archive_dir: Path, pypi_url: str, npm_url: str
) -> Problem | None:
    """Download one version into the cache unless it is there; None when it is there now."""
    if archive_path(archive_dir, pkg, version) is not None:
        return None
    try:
        if pkg.registry == "pypi":
            found = _pypi_sdist(pkg, version, pypi_url)
        elif pkg.registry == "npm":
            found = _npm_tarball(pkg, version, npm_url)
        else:
            raise ValueError(f"unknown registry {pkg.registry!r}")
        target = archive_dir / pkg.repo / f"{version}{_suffix(found.url)}"
        with urllib.request.urlopen(found.url, timeout=TIMEOUT_S) as resp:
            data = resp.read()
        if hashlib.new(found.algorithm, data).digest() != found.digest:
            raise ValueError(f"{found.algorithm} digest differs from the registry's")
    except (OSError, ValueError, KeyError) as err:  # URLError and HTTPError are OSErrors
        return Problem(pkg.repo, version, f"download failed: {err}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    partial.replace(target)  # a crash never leaves a truncated archive under the real name
    return None


def download_all(
    packages: tuple[DemoPackage, ...] | list[DemoPackage],
    archive_dir: Path,
    pypi_url: str = PYPI_URL,
    npm_url: str = NPM_URL,
    workers: int = 8,
) -> list[Problem]:
    """Download every version of every package not cached yet (I/O-bound, so in threads)."""
    jobs = [(pkg, version) for pkg in packages for version in pkg.versions]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(
            lambda job: download_one(job[0], job[1], archive_dir, pypi_url, npm_url), jobs
        )
        return [problem for problem in results if problem is not None]
