"""The Lifelong Learner Ledger core: append-only, hash-linked, privacy-preserving event storage."""
