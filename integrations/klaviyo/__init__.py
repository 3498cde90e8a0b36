"""Everything Klaviyo: the action catalog, the HTTP client and the sandbox."""
