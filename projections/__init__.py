"""Read models that follow the ledger's global sequence: learner record, activity, consent, pathways, exports."""
