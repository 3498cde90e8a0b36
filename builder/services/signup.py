"""Signing up through an emailed link, so the sign-up form never reveals who has an account.

The form takes an email address and always answers the same "check your inbox" page. What the
address receives depends on it, and only its owner reads that:

- a new address gets a link to finish signing up (name and password), valid for a day;
- an address with an account gets a reminder that it has one, with the login link;
- while sign-up is closed (ALLOW_SIGNUP=false), an address without a pending invitation gets
  nothing, and one with an invitation gets the link: invitations open the door.

Opening the link proves the person reads that inbox, so the finishing page may say plainly when
the address has an account by then. Nothing is stored until the account is created: the link is a
signed, timestamped token of the address and where to go afterwards.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from builder.models import Invitation, User

logger = logging.getLogger(__name__)

SALT = "builder.signup"
LINK_MAX_AGE = 24 * 3600  # seconds a finish-signing-up link works


@dataclass(frozen=True)
class SignupLink:
    """What a finish-signing-up link carries: the proven address and where to go next."""

    email: str
    next_url: str


def signup_allowed(email: str) -> bool:
    """Whether `email` may create an account: sign-up is open, or an invitation awaits it."""
    return settings.ALLOW_SIGNUP or Invitation.objects.pending().filter(email=email).exists()


def signup_start(*, email: str, site_url: str, next_url: str = "") -> None:
    """Email `email` the next step of signing up (see the module docstring); return nothing.

    `site_url` is the scheme and host the links start with; `next_url` a local path to return to
    once the account exists. A mail server failure is logged, never shown: the page the visitor
    sees must not depend on the address.
    """
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        subject = "You already have a Step Builder account"
        template = "accounts/email/signup_existing.txt"
        context = {"login_url": site_url + reverse("login")}
    elif signup_allowed(email):
        token = signing.dumps({"email": email, "next": next_url}, salt=SALT, compress=True)
        subject = "Finish signing up for Step Builder"
        template = "accounts/email/signup_link.txt"
        context = {"link": site_url + reverse("signup_finish", args=[token])}
    else:
        return
    try:
        send_mail(subject, render_to_string(template, {"email": email, **context}), None, [email])
    except (smtplib.SMTPException, OSError):
        logger.exception("Could not email the sign-up step to an address")


def signup_link_read(token: str) -> SignupLink | None:
    """Return what a finish-signing-up link carries, or None when it is forged or too old."""
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return SignupLink(email=data["email"], next_url=data.get("next", ""))
