"""The long fuzz run: ``python -m fuzz --requests 1000000`` (see docs/security.md)."""
