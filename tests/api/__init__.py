"""HTTP API tests: FastAPI TestClient on a SQLite ledger."""
