"""Connections to outside systems; everything Klaviyo lives in integrations/klaviyo/."""
