"""The core of botrt: events, hooks, bus, pipeline, config and the ports to the rest."""
