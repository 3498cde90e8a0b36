"""Forms of the builder app: they validate, services write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from builder.models import User, Workspace


class SignupForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label="Your name")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Log in instead."
            )
        return email

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password do not match an account. Check both and try again."
        ),
        "throttled": (
            "Too many failed attempts for this account or from this network. "
            "Wait 15 minutes and try again."
        ),
    }

    def clean(self) -> dict:
        from builder.throttle import login_blocked, login_failed, login_succeeded

        email = self.data.get("username", "")
        if self.request is not None and login_blocked(self.request, email):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.request is not None:
                login_failed(self.request, email)
            raise
        if self.request is not None:
            login_succeeded(self.request, email)
        return cleaned


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name"]
        labels = {"name": "Workspace name"}
        widgets = {"name": forms.TextInput(attrs={"placeholder": "Workspace name, e.g. EU store"})}


class AddMemberForm(forms.Form):
    email = forms.EmailField(
        label="Email of an existing user",
        widget=forms.EmailInput(attrs={"placeholder": "teammate@example.com"}),
    )
