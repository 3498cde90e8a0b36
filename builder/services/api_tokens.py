"""Create and revoke workspace API tokens."""

from __future__ import annotations

from django.utils import timezone

from builder.models import ApiToken, User, Workspace
from builder.models.api import TOKEN_PREFIX, token_digest


def api_token_create(*, workspace: Workspace, name: str, user: User | None) -> tuple[ApiToken, str]:
    """Make a token for the workspace; return it and its secret, which is shown this once."""
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        workspace=workspace,
        name=name.strip() or "API token",
        token_hash=token_digest(secret),
        hint=secret[-4:],
        created_by=user,
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop the token from working at once."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(secret: str) -> ApiToken | None:
    """Return the active token for this secret, or None; record when it was last used."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("workspace")
        .filter(token_hash=token_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
