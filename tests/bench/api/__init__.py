"""Tests of `ledger bench api`: the run end to end, and its load generator."""
