"""The live-chat widget: its page, its websocket protocol and delivery to open sockets."""
