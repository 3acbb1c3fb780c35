"""The ``ledger`` command line: a composition root over the core (nothing imports it)."""
