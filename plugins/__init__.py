"""Built-in plugins, written only against runtime's public hook API."""
