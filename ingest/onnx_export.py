"""Export the sentence-transformers model to ONNX once, and check it against torch before it is used.

The transformer alone is exported (torch.onnx's legacy TorchScript exporter: one file, exact fp32); mean
pooling and normalisation run in numpy (ingest/onnx_embedder.py). The export is written to a staging folder
and moved into the cache only after its vectors agreed with sentence-transformers' on VERIFY_SENTENCES.

    python -m ingest.onnx_export          # the bundled MiniLM (what `make install` runs)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from ingest.errors import IngestError
from ingest.onnx_embedder import ONNX_FILE, VERIFIED_FILE, ModelFiles, OnnxEmbedder, export_dir, is_exported

logger = logging.getLogger(__name__)

OPSET = 17
MIN_COSINE = 0.9999
# Short and long, questions and passages; the last runs past 128 tokens (where the shipped tokenizer.json
# would cut) and past 256 (where the model's max_seq_length cuts).
VERIFY_SENTENCES = (
    "what's the formula for DSO",
    "How is net revenue retention calculated?",
    "which column of the payouts report is the arrival date?",
    "title: Refunds policy\nsection: Refunds > Annual plans\n\nAnnual plans are refunded pro rata within 30 days.",
    "GL 1030",
    " ".join(
        f"Line {n}: accounts receivable at period end is divided by billings in the period and multiplied by"
        " the days in the period, excluding tax billed, except for Enterprise customers on Net 45 terms."
        for n in range(1, 16)
    ),
)


class ExportError(IngestError):
    """The ONNX export did not reproduce the torch model's vectors."""


def ensure_exported(files: ModelFiles, root: Path | None = None) -> Path:
    """The folder holding the verified ONNX export of this model, exporting it first if needed."""
    folder = export_dir(files, root)
    if is_exported(folder):
        return folder
    started = time.perf_counter()
    logger.warning("exporting %s to ONNX once (a few seconds; cached in %s)", files.folder, folder)
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        _export(files, staging / ONNX_FILE)
        report = verify(files, staging / ONNX_FILE)
        report["seconds"] = round(time.perf_counter() - started, 2)
        (staging / VERIFIED_FILE).write_text(json.dumps(report, indent=2))
        if is_exported(folder):  # another process finished first; its copy is as good
            return folder
        shutil.rmtree(folder, ignore_errors=True)  # a half-written folder from a killed run
        try:
            os.replace(staging, folder)
        except OSError:
            if not is_exported(folder):  # else another process won the race between the check and the move
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("exported and verified %s in %.1f s", folder / ONNX_FILE, time.perf_counter() - started)
    return folder


def _export(files: ModelFiles, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(files.folder), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(files.folder))
    sample = tokenizer(["a sample sentence", "a second, longer sample sentence"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = model  # a submodule, so its weights export as weights

        # by keyword: the positional order of BertModel.forward is not the same across transformers versions
        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            outputs = self.transformer(**dict(zip(names, inputs, strict=True)))
            return outputs.last_hidden_state  # type: ignore[no-any-return]

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState().eval(), tuple(sample[n] for n in names), str(target),
            input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
            opset_version=OPSET, dynamo=False,
        )


def verify(files: ModelFiles, onnx_file: Path) -> dict[str, object]:
    """Embed VERIFY_SENTENCES with torch and with the export; raise ExportError unless every cosine > MIN_COSINE."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(files.folder), device="cpu")
    expected = reference.encode(list(VERIFY_SENTENCES), normalize_embeddings=files.normalize, show_progress_bar=False)
    got = OnnxEmbedder(files, onnx_file).encode(list(VERIFY_SENTENCES))
    cosines = (expected * got).sum(axis=1) / (np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1))
    worst = float(cosines.min())
    if worst <= MIN_COSINE:
        raise ExportError(
            f"The ONNX export of {files.folder} gives other vectors than torch (worst cosine {worst:.6f}, "
            f"need > {MIN_COSINE}). Delete {onnx_file.parent} and report the versions of torch and onnxruntime."
        )
    return {"model": str(files.folder), "weights": files.weights.name, "min_cosine": round(worst, 8),
            "max_abs_diff": float(np.abs(expected - got).max()), "sentences": len(VERIFY_SENTENCES)}


def main() -> None:
    """Export the bundled model (or the sentence-transformers folder given as the argument)."""
    from ingest import store
    from ingest.onnx_embedder import model_files

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else store.bundled_model_path())
    files = model_files(folder)
    if files is None:
        sys.exit(f"{folder}: not a transformer + mean-pooling sentence-transformers folder; nothing to export.")
    print(ensure_exported(files) / ONNX_FILE)


if __name__ == "__main__":
    main()
