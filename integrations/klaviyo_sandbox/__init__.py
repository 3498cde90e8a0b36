"""A local emulator of the Klaviyo API, served at /sandbox/klaviyo/ over real HTTP."""
