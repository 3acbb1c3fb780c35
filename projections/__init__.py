"""Read models that follow the ledger's global sequence (learner record, consent, ...): issue 4."""
