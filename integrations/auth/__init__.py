"""How a connection proves who it is to Klaviyo: private API keys and OAuth2 (PKCE)."""
