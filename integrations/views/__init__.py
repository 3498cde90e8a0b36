"""Pages of the integrations app: connections, the OAuth round trip, the action catalog."""
