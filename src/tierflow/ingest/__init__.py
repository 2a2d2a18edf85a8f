"""Ingest: read student facts (and, later, raw attendance events) from files."""

from tierflow.ingest._facts import FactsRecord, read_facts, read_facts_text

__all__ = ["FactsRecord", "read_facts", "read_facts_text"]
