"""Every operation a person triggers, once: the CLI, the HTTP API and the web pages call these.

Each operation takes the ports it needs (`services.ports`), never the concrete ledger or
read-model store, so its unit tests run against in-memory fakes.
"""
