"""Kafka ingest workers feeding the shared ingest pipeline: issue 3."""
