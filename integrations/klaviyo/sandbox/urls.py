"""Routes of the Klaviyo sandbox (mounted at /sandbox/klaviyo/)."""

app_name = "klaviyo_sandbox"

urlpatterns: list = []
