"""Incremental indexing, force-pushes, deleted branches and repos, kill -9, concurrent readers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from innersearch.indexer.store import Store
from tests.helpers import GIT_ENV, commit_files, data_dir, git, make_repo, run_index


def _state(data) -> dict[tuple[str, str, str], bytes]:
    snap = Store(data).snapshot()
    return {(f.repo, f.branch, f.path): snap.content(f.blob_key) for f in snap.files}


def test_one_file_commit_reparses_one_blob(tmp_path):
    repo = make_repo(
        tmp_path / "org", "r", {f"m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(30)}
    )
    data = data_dir(tmp_path)
    first = run_index(data, repo)
    assert first.new_blobs == 30
    commit_files(repo, {"m3.py": "def f3():\n    return 'changed'\n", "m4.py": None})
    second = run_index(data, repo)
    assert second.new_blobs == 1
    assert second.outcomes[0].status == "indexed"
    state = _state(data)
    assert state[("r", "main", "m3.py")] == b"def f3():\n    return 'changed'\n"
    assert ("r", "main", "m4.py") not in state
    assert len(state) == 29
    third = run_index(data, repo)
    assert third.new_blobs == 0 and third.outcomes[0].status == "unchanged"


def test_force_push_and_deleted_branch(tmp_path):
    upstream = make_repo(tmp_path / "org", "r", {"a.py": "A = 1\n"})
    commit_files(upstream, {"b.py": "B = 2\n"}, "feature", branch="feature")
    git(upstream, "checkout", "-q", "main")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[[sources]]\nurl = "file://{upstream}"\nname = "r"\nbranches = ["feature"]\n'
    )
    data = data_dir(tmp_path)
    run_index(data, config)
    assert ("r", "feature", "b.py") in _state(data)
    # Force-push: main is rewritten to a different history.
    git(upstream, "checkout", "-q", "--orphan", "rewritten")
    git(upstream, "rm", "-q", "-rf", ".")
    commit_files(upstream, {"c.py": "C = 3\n"}, "rewrite")
    git(upstream, "branch", "-f", "main", "rewritten")
    git(upstream, "checkout", "-q", "main")
    git(upstream, "branch", "-q", "-D", "rewritten", "feature")
    summary = run_index(data, config)
    assert "configured branch 'feature' does not exist" in summary.outcomes[0].message
    state = _state(data)
    assert set(state) == {("r", "main", "c.py")}


def test_repo_removed_from_sources_leaves_the_index(tmp_path):
    org = tmp_path / "org"
    make_repo(org, "keep", {"k.py": "K = 1\n"})
    gone = make_repo(org, "gone", {"g.py": "G = 1\n"})
    data = data_dir(tmp_path)
    run_index(data, org)
    import shutil

    shutil.rmtree(gone)
    summary = run_index(data, org)
    assert ("gone", "removed") in [(o.name, o.status) for o in summary.outcomes]
    assert set(_state(data)) == {("keep", "main", "k.py")}
    assert not data.mirror_path("gone").exists()
    store = Store(data)
    with store.catalog.read() as r:
        assert r.blob_totals()[0] == 1
    store.close()


def _many_files_repo(root, name: str, n: int, tag: str):
    body = "\n".join(f"    value_{j} = compute_{j}(x, {j}) + {j}" for j in range(30))
    files = {
        f"pkg{i // 100}/mod_{i}.py": f"def handler_{i}_{tag}(x):\n{body}\n    return value_1\n"
        for i in range(n)
    }
    return make_repo(root, name, files) if not (root / name).exists() else files


_INDEX_SCRIPT = """
import pathlib
import sys
from innersearch.indexer import layout
from innersearch.indexer.run import index_sources
if __name__ == "__main__":
    data = layout.DataDir(pathlib.Path(sys.argv[1]))
    index_sources(data, sys.argv[2:], say=lambda m: None)
"""


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # exited while we looked
            children.setdefault(parent, []).append(int(entry))
    return children


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


def _assert_all_exit(pids: set[int], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)], "processes outlived the killed indexer"


def test_kill_9_mid_run_keeps_the_old_index_and_next_run_completes(tmp_path):
    org = tmp_path / "org"
    old_repo = make_repo(org, "a", {"a.py": "OLD = 1\n"})
    data = data_dir(tmp_path)
    run_index(data, org)
    before = _state(data)
    commit_files(old_repo, {"a.py": "NEW = 2\n"})
    _many_files_repo(org, "b", 1500, "v1")
    script = tmp_path / "index.py"
    script.write_text(_INDEX_SCRIPT)
    env = {**GIT_ENV, "PYTHONPATH": os.getcwd()}
    for delay in (0.3, 1.0, 2.0):
        proc = subprocess.Popen([sys.executable, str(script), str(data.root), str(org)], env=env)
        time.sleep(delay)
        tree = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _assert_all_exit(tree)  # forkserver, resource tracker and workers do not linger
        state = _state(data)  # opens and reads fine after the kill
        a_state = {k: v for k, v in state.items() if k[0] == "a"}
        assert a_state in (
            {("a", "main", "a.py"): b"OLD = 1\n"},
            {("a", "main", "a.py"): b"NEW = 2\n"},
        )
        b_files = {k for k in state if k[0] == "b"}
        assert len(b_files) in (0, 1500)  # a repo is switched whole or not at all
        assert before.keys() <= state.keys() or a_state[("a", "main", "a.py")] == b"NEW = 2\n"
    summary = run_index(data, org)
    assert not summary.failed
    completed = _state(data)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    run_index(data_dir(fresh), org)
    assert completed == _state(data_dir(fresh))


def test_readers_see_old_or_new_state_never_a_mix(tmp_path):
    org = tmp_path / "org"
    repo = make_repo(org, "r", {f"f{i}.py": f"X = {i}\n" for i in range(400)})
    data = data_dir(tmp_path)
    run_index(data, org)
    old = _state(data)
    commit_files(repo, {f"f{i}.py": f"X = {i} + 1000\n" for i in range(400)})
    store = Store(data)
    seen: list[dict] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                snap = store.snapshot()
                seen.append(
                    {(f.repo, f.branch, f.path): snap.content(f.blob_key) for f in snap.files}
                )
        except BaseException as err:  # surfaced below
            errors.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    run_index(data, org)
    stop.set()
    thread.join()
    new = _state(data)
    assert not errors
    assert new != old
    assert seen and all(s in (old, new) for s in seen)


def _catalog_rows(data) -> tuple:
    import sqlite3

    with sqlite3.connect(data.catalog_path) as conn:
        files = set(
            conn.execute(
                "SELECT branch, path, blob_key, lang, flags FROM files WHERE gen_removed IS NULL"
            )
        )
        skipped = set(conn.execute("SELECT branch, path, reason, size FROM skipped"))
        info = conn.execute("SELECT info FROM repos").fetchone()[0]
        blobs = {k for (k,) in conn.execute("SELECT key FROM blobs")}
        fragments = {k for (k,) in conn.execute("SELECT DISTINCT blob_key FROM fragments")}
    return files, skipped, info, blobs, fragments


def test_commit_diff_gives_the_state_of_a_full_listing(tmp_path):
    """After a commit the branch is updated from `git diff-tree`: files, skipped files and
    repo info equal those of a fresh index of the same commit."""
    repo = make_repo(
        tmp_path / "org",
        "r",
        {
            "a.py": "def a():\n    return 1\n",
            "b.py": "B = 2\n",
            "docs/README.md": "# r\n",
            "img.bin": b"\x00\x01\x02",
            "gen.min.js": "var x=1;\n",
        },
    )
    data = data_dir(tmp_path)
    run_index(data, repo)
    first_a = git(repo, "rev-parse", "HEAD:a.py").strip()
    commit_files(
        repo,
        {
            "a.py": "def a():\n    return 'changed'\n",
            "b.py": None,
            "c/new.go": "package c\n\nfunc C() int { return 3 }\n",
            "img2.bin": b"\x00\xff",
            "README": "top\n",
        },
    )
    os.symlink("a.py", repo / "link.py")
    commit_files(repo, {})
    git(repo, "mv", "img.bin", "moved.bin")
    commit_files(repo, {})
    summary = run_index(data, repo)
    assert summary.outcomes[0].status == "indexed"
    assert summary.new_blobs == 3  # a.py, c/new.go, README: nothing else is read again
    fresh = data_dir(tmp_path / "fresh")
    run_index(fresh, repo)
    assert _catalog_rows(data) == _catalog_rows(fresh)
    state = _state(data)
    assert ("r", "main", "b.py") not in state
    assert state[("r", "main", "c/new.go")].startswith(b"package c")
    # The blobs the commit replaced were collected from the index too.
    snap = Store(data).snapshot()
    assert snap.content(int(first_a[:15], 16)) is None


def test_a_poll_where_nothing_changed_leaves_the_collection_done(tmp_path):
    """Left "pending", the next run swept the whole index (every document's blob key)."""
    from innersearch.indexer.catalog import Catalog

    repo = make_repo(tmp_path / "org", "r", {"a.py": "x = 1\n"})
    data = data_dir(tmp_path)
    run_index(data, repo)
    assert run_index(data, repo).outcomes[0].status == "unchanged"
    cat = Catalog(data.catalog_path)
    with cat.read() as r:
        assert r.meta_value("gc") == "done"
    cat.close()
    commit_files(repo, {"a.py": "x = 2\n", "b.py": "y = 1\n"})
    assert run_index(data, repo).new_blobs == 2
    assert {p for (_, _, p) in _state(data)} == {"a.py", "b.py"}


def test_a_diff_counts_the_paths_it_touched(tmp_path):
    repo = make_repo(tmp_path / "org", "r", {f"m{i}.py": f"x = {i}\n" for i in range(10)})
    data = data_dir(tmp_path)
    assert run_index(data, repo).outcomes[0].files == 10  # a listing: the branch's files
    commit_files(repo, {"m3.py": "x = 'changed'\n", "m4.py": None, "new.py": "y = 1\n"})
    assert run_index(data, repo).outcomes[0].files == 3  # changed, deleted, added
    assert len(_state(data)) == 10
