"""The composition root: CLI, aiohttp application, process roles. Nothing imports it."""
