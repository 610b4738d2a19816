"""Metric values through MetricFlow: the corpus's semantic-layer YAML as a manifest, the DuckDB adapter, periods,
and value questions. May import ingest, bot.config and bot.errors; never retrieval, answering, evaluation or
interfaces."""
