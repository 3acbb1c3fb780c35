"""Every operation a person triggers, once: the CLI, the HTTP API and the web pages call these."""
