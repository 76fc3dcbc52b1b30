"""Conversation logic: bot files, flows, templates. Knows bots, not platforms."""
