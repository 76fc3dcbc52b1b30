"""Channel adapters: verify and parse inbound, render and send outbound. Imports runtime only."""
