"""finbot in Slack: a bolt AsyncApp over the same Answerer as the CLI and HTTP API.

`app` wires the listeners; `blocks` renders replies; `feedback` stores answers and votes in SQLite;
`conversation` turns a Slack message (and its thread) into the question; `guards` dedupes and rate-limits.
"""
