"""Forms of the builder app: they validate, services write."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from builder.models import Membership, User, Workspace
from builder.throttle import login_failed, login_wait, wait_in_words


def validate_single_line(value: str) -> None:
    """Refuse control characters: names end up in page titles, lists and email subjects.

    NUL is left to Django's own validator, which every CharField has (PostgreSQL refuses NUL).
    """
    if any(unicodedata.category(char) == "Cc" and char != "\x00" for char in value):
        raise forms.ValidationError(
            "Keep it on one line, without tabs or other control characters.",
            code="control_characters",
        )


class SignupForm(forms.Form):
    """The first step of signing up: an address to send the link to (services/signup.py)."""

    email = forms.EmailField(
        max_length=254,
        label="Your email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        # No "already exists" here: the form must answer alike for every address.
        return self.cleaned_data["email"].strip().lower()


class SignupFinishForm(forms.Form):
    """The second step, reached from the emailed link: a name and a password."""

    name = forms.CharField(
        max_length=150, required=False, label="Your name", validators=[validate_single_line]
    )
    password = forms.CharField(
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = User(email=self.email, name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class ThrottledLoginMixin:
    """Refuse a login that must wait (builder.throttle) and count the failed ones.

    Mixed into the app's and the admin's login forms, so failures on either page count together.
    """

    throttled_message = (
        "Too many failed attempts for this account or from this network. "
        "Wait %(wait)s and try again."
    )
    request: HttpRequest | None
    user_cache: User | None
    data: Any
    cleaned_data: dict

    def clean(self) -> dict:
        email = self.data.get("username", "")
        if self.request is not None:
            wait = login_wait(self.request, email)
            if wait:
                raise forms.ValidationError(
                    self.throttled_message, code="throttled", params={"wait": wait_in_words(wait)}
                )
        try:
            return super().clean()  # type: ignore[misc]
        finally:
            # Only a wrong password counts: not a missing field, nor a non-staff user in the admin.
            cleaned = self.cleaned_data
            guessed = cleaned.get("username") and cleaned.get("password")
            if self.request is not None and guessed and self.user_cache is None:
                login_failed(self.request, email)


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password do not match an account. Check both and try again."
        ),
    }


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The Django admin's login form, throttled like the app's (see builder/admin.py)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # Django's says both fields may be case-sensitive; the email is not (User manager).
        "invalid_login": (
            "Please enter the correct email and password for a staff account. "
            "The password is case-sensitive."
        ),
    }


class RetentionForm(forms.ModelForm):
    """How many days finished runs are kept."""

    class Meta:
        model = Workspace
        fields = ["run_retention_days"]
        labels = {"run_retention_days": "Keep runs for (days)"}
        help_texts = {
            "run_retention_days": "Finished runs older than this are deleted every night "
            "(1 to 3650 days)."
        }


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name"]
        labels = {"name": "Workspace name"}
        widgets = {"name": forms.TextInput(attrs={"placeholder": "Workspace name, e.g. EU store"})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        validate_single_line(name)
        return name


class InvitationForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Email address to invite",
        widget=forms.EmailInput(attrs={"placeholder": "teammate@example.com"}),
    )
    role = forms.ChoiceField(
        choices=Membership.Role.choices, initial=Membership.Role.MEMBER, label="Role"
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        widget=forms.TextInput(attrs={"placeholder": "What uses it, e.g. Zapier or CI"}),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        validate_single_line(name)
        return name
