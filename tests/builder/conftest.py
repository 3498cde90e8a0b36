"""Fixtures of the builder tests: invitations to alice's workspace."""

import pytest

from builder.models import Membership
from builder.services.invitations import invitation_create


@pytest.fixture
def invite(alice, alice_workspace):
    """Return invite(email, role="member"): alice invites `email`; gives (invitation, token)."""

    def make(email, role=Membership.Role.MEMBER):
        return invitation_create(
            workspace=alice_workspace, email=email, role=role, invited_by=alice
        )

    return make
