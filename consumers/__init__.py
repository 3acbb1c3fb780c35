"""Kafka ingest workers feeding the shared ingest pipeline, with their dead letters, positions and metrics."""
