"""Sign up in two steps: an address (always "check your inbox"), then the emailed link.

See builder/services/signup.py for why: the first step must not tell anyone whether an address
has an account.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from builder.forms import SignupFinishForm, SignupForm
from builder.models import User
from builder.services.accounts import user_signup
from builder.services.signup import signup_allowed, signup_link_read, signup_start

SENT_TO = "signup_sent_to"  # session key: the address the "check your inbox" page names


def _local_next(request: HttpRequest, url: str) -> str:
    """Return `url` when it is a path on this site (where to go after signing up), else ""."""
    url = url.strip()
    if len(url) > 1000 or not url.startswith("/"):
        return ""
    allowed = url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure())
    return url if allowed else ""


def signup(request: HttpRequest) -> HttpResponse:
    """Ask for an email address and send the next step to it; the same answer for every address."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    next_url = _local_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        signup_start(
            email=email, site_url=f"{request.scheme}://{request.get_host()}", next_url=next_url
        )
        request.session[SENT_TO] = email
        return redirect("signup_sent")
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "next": next_url, "allow_signup": settings.ALLOW_SIGNUP},
    )


@require_safe
def signup_sent(request: HttpRequest) -> HttpResponse:
    """Say "check your inbox", naming the address so a typo shows."""
    email = request.session.get(SENT_TO)
    if email is None:
        return redirect("signup")
    return render(request, "accounts/signup_sent.html", {"email": email})


def _link_invalid(request: HttpRequest) -> HttpResponse:
    context = {"allow_signup": settings.ALLOW_SIGNUP}
    return render(request, "accounts/signup_invalid.html", context, status=410)


def signup_finish(request: HttpRequest, token: str) -> HttpResponse:
    """Create the account from an emailed link: a name and a password, then log in."""
    if request.user.is_authenticated:
        messages.info(request, "You are logged in already.")
        return redirect("dashboard")
    link = signup_link_read(token)
    if link is None:
        return _link_invalid(request)
    # The visitor reads this inbox (they have the link), so it is fine to say it has an account.
    if User.objects.filter(email__iexact=link.email).exists():
        return render(request, "accounts/signup_exists.html", {"email": link.email}, status=409)
    if not signup_allowed(link.email):  # closed sign-up, and the invitation went away meanwhile
        return _link_invalid(request)
    form = SignupFinishForm(request.POST or None, email=link.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(
                email=link.email,
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
            )
        except IntegrityError:  # the same link submitted twice at once
            return render(request, "accounts/signup_exists.html", {"email": link.email}, status=409)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.pop(SENT_TO, None)
        messages.success(request, "Welcome to Step Builder! Your personal workspace is ready.")
        return redirect(_local_next(request, link.next_url) or "dashboard")
    return render(request, "accounts/signup_finish.html", {"form": form, "email": link.email})
