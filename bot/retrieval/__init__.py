"""Finding passages: hybrid search (Chroma + BM25), the glossary, loose word matching, the column check and
context widening. May import ingest, bot.config and bot.errors; never answering, evaluation or interfaces."""
