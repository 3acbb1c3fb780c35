"""Verifiable credentials (Open Badges 3.0, CLR 2.0): contexts, canonicalisation, keys and proofs."""
