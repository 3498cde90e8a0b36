"""Workspace-scoped connections to Klaviyo (API key, OAuth2, sandbox) arrive with the connections issue."""
