"""The torch-free embedder: the sentence-transformers model exported to ONNX, run by onnxruntime.

It gives the vectors sentence-transformers gives (cosine > 0.9999, checked when the file is exported by
ingest/onnx_export.py), so it answers queries against an index embedded with torch and the other way round.
Importing it costs onnxruntime + tokenizers + numpy (about 1 s) instead of torch (about 10 s).

The exported file is cached once per model, under `<cache>/onnx/<sha256 of the weights>/`, where <cache>
is $XDG_CACHE_HOME/finbot (~/.cache/finbot). Ingest exports it after its first run with a model, and so
does `make install`; a process that finds no file exports it then (that one time it imports torch).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
VERIFIED_FILE = "verified.json"  # written last by the export: a folder without it is not used
# The module stack the export reproduces: a BERT-like transformer, mean pooling, L2 normalisation.
SUPPORTED_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
# onnxruntime's own thread pool: one thread is as fast as two for one short query on a loaded 2-core
# machine (docs/benchmarks.md) and leaves the other core to the server's other requests.
QUERY_THREADS = 1


class Embedder(Protocol):
    """What retrieval needs of an embedding model; llama-index's BaseEmbedding has the same two methods."""

    def get_query_embedding(self, query: str) -> list[float]: ...

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False) -> list[list[float]]: ...


@dataclass(frozen=True)
class ModelFiles:
    """A sentence-transformers model folder this module can run: what it holds, read from its own configs."""

    folder: Path
    weights: Path  # model.safetensors (or pytorch_model.bin)
    max_length: int  # sentence_bert_config.json's max_seq_length: the tokenizer.json shipped beside it says 128
    normalize: bool

    @property
    def tokenizer(self) -> Path:
        return self.folder / "tokenizer.json"


def model_files(folder: Path) -> ModelFiles | None:
    """The folder's files when it is a transformer + mean pooling (+ normalize) model; None for anything else."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        pooling_dir = next(m["path"] for m in modules if m["type"] == SUPPORTED_MODULES[1])
        pooling = json.loads((folder / pooling_dir / "config.json").read_text())
        max_length = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None
    types = [m["type"] for m in modules]
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    )
    weights = next((folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).exists()), None)
    if types not in (list(SUPPORTED_MODULES), list(SUPPORTED_MODULES[:2])) or not mean_only or weights is None:
        return None
    if not (folder / "tokenizer.json").exists():
        return None
    return ModelFiles(folder, weights, max_length, normalize=len(types) == 3)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "finbot" / "onnx"


def weights_sha256(files: ModelFiles, root: Path | None = None) -> str:
    """The sha256 of the model's weights, remembered per path, size and mtime (hashing 90 MB takes 0.15 s)."""
    root = root or cache_root()
    stat = files.weights.stat()
    seen = root / "hashes" / (hashlib.sha256(str(files.weights.resolve()).encode()).hexdigest()[:32] + ".json")
    key = {"path": str(files.weights.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        known = json.loads(seen.read_text())
        if {k: known.get(k) for k in key} == key:
            return str(known["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    digest = hashlib.sha256()
    with files.weights.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    sha = digest.hexdigest()
    try:
        seen.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(seen, json.dumps({**key, "sha256": sha}))
    except OSError as exc:  # a read-only cache only costs the hash next time
        logger.debug("could not remember the model hash in %s: %s", seen, exc)
    return sha


def export_dir(files: ModelFiles, root: Path | None = None) -> Path:
    """Where the ONNX export of this model lives (or will): keyed by its weights' sha256."""
    root = root or cache_root()
    return root / weights_sha256(files, root)


def is_exported(folder: Path) -> bool:
    return (folder / ONNX_FILE).exists() and (folder / VERIFIED_FILE).exists()


class OnnxEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings from the exported transformer, without torch."""

    def __init__(self, files: ModelFiles, onnx_file: Path, threads: int = QUERY_THREADS, batch_size: int = 64) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.files = files
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(files.tokenizer))
        # The shipped tokenizer.json truncates at 128 and pads every input to 128: sentence-transformers
        # overrides both (the model's max_seq_length, pad to the longest in the batch), and so must we.
        self.tokenizer.enable_truncation(max_length=files.max_length)
        pad = self.tokenizer.padding or {}
        self.tokenizer.enable_padding(pad_id=int(pad.get("pad_id", 0)), pad_token=str(pad.get("pad_token", "[PAD]")))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """One float32 row per text, in order."""
        import numpy as np

        rows = [self._encode_batch(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        encodings = self.tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": mask,
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self.files.normalize:
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return np.asarray(pooled, dtype=np.float32)

    def get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self.encode([query])[0]]

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.encode(list(texts))]


def load_exported(
    files: ModelFiles, root: Path | None = None, threads: int = QUERY_THREADS, batch_size: int = 64
) -> OnnxEmbedder | None:
    """The embedder over the cached export of this model, or None when it has not been exported yet."""
    folder = export_dir(files, root)
    if not is_exported(folder):
        return None
    return OnnxEmbedder(files, folder / ONNX_FILE, threads, batch_size)


def _write_atomic(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text)
    os.replace(staging, path)
