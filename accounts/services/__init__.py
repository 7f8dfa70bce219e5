"""Writes of the accounts app, one module per flow. Views call these; nothing else writes."""
