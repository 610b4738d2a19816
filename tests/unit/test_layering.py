import subprocess
import sys


def test_ingest_never_imports_bot() -> None:
    code = (
        "import ingest.pipeline, ingest.store, ingest.loaders, sys;"
        "print(any(m.split('.')[0] == 'bot' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_help_does_not_load_the_heavy_stack() -> None:
    """`finbot --help` stays instant: no torch, chromadb or llama-index at import."""
    code = (
        "import bot.cli, sys;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'chromadb', 'llama_index'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
