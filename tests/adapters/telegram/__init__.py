"""Telegram adapter tests: recorded Updates in, a fake Bot API out."""
