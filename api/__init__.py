"""The HTTP API: a FastAPI app for issuers, learners, verifiers, auditors and admins."""
