"""Which model folders the ONNX embedder takes on, and reading a chunk's metadata without llama-index."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import onnx_embedder, store


def model_folder(tmp_path: Path, pooling: dict[str, bool], normalize: bool = True) -> Path:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (tmp_path / "1_Pooling").mkdir(parents=True)
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 384}))
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "tokenizer.json").write_text("{}")
    return tmp_path


def test_a_mean_pooling_model_is_taken_with_its_own_max_length(tmp_path: Path) -> None:
    files = onnx_embedder.model_files(model_folder(tmp_path, {"pooling_mode_mean_tokens": True}, normalize=False))
    assert files is not None and (files.max_length, files.normalize) == (384, False)


def test_cls_pooling_is_left_to_sentence_transformers(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    assert onnx_embedder.model_files(folder) is None
    assert onnx_embedder.model_files(tmp_path / "missing") is None


def test_the_weights_hash_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    import hashlib

    files = onnx_embedder.model_files(model_folder(tmp_path / "m", {"pooling_mode_mean_tokens": True}))
    assert files is not None
    cache = tmp_path / "cache"
    assert onnx_embedder.weights_sha256(files, cache) == hashlib.sha256(b"weights").hexdigest()
    files.weights.write_bytes(b"other weights, other size")
    assert onnx_embedder.export_dir(files, cache).name == hashlib.sha256(b"other weights, other size").hexdigest()


def test_node_metadata_reads_llama_index_node_content() -> None:
    stored = {
        "_node_content": json.dumps({"id_": "c1", "metadata": {"path": "metrics/mrr.yaml", "start_line": 3}}),
        "_node_type": "TextNode", "document_id": "metrics/mrr.yaml", "path": "metrics/mrr.yaml", "start_line": 3,
    }
    assert store.node_metadata(stored) == {"path": "metrics/mrr.yaml", "start_line": 3}
    assert store.node_metadata({"path": "a.md", "doc_id": "a.md", "_node_type": "x"}) == {"path": "a.md"}
