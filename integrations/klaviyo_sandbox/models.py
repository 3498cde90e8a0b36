"""The sandbox's state: accounts, a generic JSON:API resource store, OAuth grants, rate counters.

Every row belongs to one `SandboxAccount`; deleting an account deletes all of its data. Secrets
(private API keys, OAuth client secrets, codes and tokens) are stored as SHA-256 hashes only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SandboxAccount(models.Model):
    """One emulated Klaviyo account, reachable with its private key or its public key."""

    class RateLimitMode(models.TextChoices):
        DEFAULT = "", "As configured (KLAVIYO_SANDBOX_RATE_LIMITS)"
        OFF = "off", "Off"
        REAL = "real", "Klaviyo's limits"
        SCALED = "scaled", "Klaviyo's limits on a faster clock"

    name = models.CharField(max_length=200, db_index=True)
    api_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    api_key_hint = models.CharField(max_length=4, editable=False)
    public_key = models.CharField(max_length=12, unique=True, editable=False)
    rate_limit_mode = models.CharField(
        max_length=10, choices=RateLimitMode.choices, blank=True, default=""
    )
    time_scale = models.FloatField(
        null=True,
        blank=True,
        help_text="With scaled rate limits: how many times faster the windows run "
        "(60 makes a minute last one second). Empty: as configured.",
    )
    fault_every_n = models.PositiveIntegerField(
        default=0, help_text="Answer every Nth request with a 503 (0: never)."
    )
    latency_ms = models.PositiveIntegerField(
        default=0, help_text="Added to every answer, in milliseconds."
    )
    request_count = models.PositiveBigIntegerField(default=0, editable=False)
    # Who made it (a sandbox connection or the OAuth consent page): each person's accounts count
    # against one limit, wherever they were made. Empty for accounts made by commands.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_key})"


class SandboxResource(models.Model):
    """One JSON:API resource object (`type` + `resource_id`) of an account.

    `attributes` is what the API serves; `relationships` holds to-one links (`{"metric": id}`)
    and owned to-many id lists; `internal` keeps sandbox-only state that is never served
    (job payloads and timings, a campaign's send job...).
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="resources")
    type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=255)
    attributes = models.JSONField(default=dict)
    relationships = models.JSONField(default=dict)
    internal = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "type", "resource_id"], name="sandbox_resource_unique_id"
            )
        ]
        indexes = [models.Index(fields=["account", "type", "created"], name="sandbox_res_listing")]

    def __str__(self) -> str:
        return f"{self.type} {self.resource_id}"


class SandboxLink(models.Model):
    """A many-to-many membership: `src` has `dst` in its relationship `rel` (list -> profiles).

    `created` is when the link was made (Klaviyo's `joined_group_at`).
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="links")
    src_type = models.CharField(max_length=64)
    src_id = models.CharField(max_length=255)
    rel = models.CharField(max_length=64)
    dst_type = models.CharField(max_length=64)
    dst_id = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "src_type", "src_id", "rel", "dst_id"],
                name="sandbox_link_unique",
            )
        ]
        indexes = [
            models.Index(fields=["account", "dst_type", "dst_id"], name="sandbox_link_inverse")
        ]

    def __str__(self) -> str:
        return f"{self.src_type} {self.src_id} -{self.rel}-> {self.dst_id}"


class SandboxRateCounter(models.Model):
    """Requests an account made in one fixed rate-limit window (shared by all processes)."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=40)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "bucket", "window"], name="sandbox_rate_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bucket} window {self.window}: {self.count}"


class SandboxOAuthClient(models.Model):
    """An OAuth app allowed to ask sandbox accounts for access (like a Klaviyo app)."""

    name = models.CharField(max_length=200)
    client_id = models.CharField(max_length=64, unique=True, editable=False)
    client_secret_hash = models.CharField(max_length=64, editable=False)
    redirect_uris = models.TextField(help_text="One allowed redirect URI per line.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def allows_redirect(self, uri: str) -> bool:
        """Tell whether `uri` is exactly one of the registered redirect URIs."""
        return uri in {line.strip() for line in self.redirect_uris.splitlines() if line.strip()}


class SandboxOAuthGrant(models.Model):
    """An authorization code: one use, short-lived, bound to a redirect URI and a PKCE challenge."""

    client = models.ForeignKey(SandboxOAuthClient, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    redirect_uri = models.TextField()
    scopes = models.TextField(blank=True)
    code_challenge = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant for {self.client_id} on {self.account_id}"


class SandboxOAuthToken(models.Model):
    """An issued OAuth token; access tokens point at the refresh token that minted them."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access token"
        REFRESH = "refresh", "Refresh token"

    client = models.ForeignKey(SandboxOAuthClient, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} token for {self.account_id}"

    @property
    def scope_set(self) -> set[str]:
        """Return the granted scopes as a set."""
        return set(self.scopes.split())
