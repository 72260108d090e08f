"""Platform and wiring: app factory, config, accounts, auth, errors, CLI."""
