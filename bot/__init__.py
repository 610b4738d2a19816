"""finbot: answers finance questions from the indexed documents, over the CLI and HTTP."""
