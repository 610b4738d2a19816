"""Reads finance documents and writes them, as cited chunks, into the Chroma index.

This package defines the index (see ``ingest.store``); ``bot`` reads it. Nothing here imports ``bot``.
"""
