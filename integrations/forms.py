"""Forms for adding and changing connections; Klaviyo itself validates keys in the views."""

from __future__ import annotations

from django import forms

from integrations.models import Connection


class ReplaceKeyForm(forms.Form):
    """A new private key for an existing connection, checked exactly as when adding one."""

    api_key = forms.CharField(
        label="Private API key",
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "pk_…"}),
        help_text="Klaviyo → Settings → API keys → Create private API key. Stored encrypted.",
    )

    def clean_api_key(self) -> str:
        key = self.cleaned_data["api_key"].strip()
        if not key.isascii() or not key.isprintable():
            # Klaviyo's keys are plain letters, digits and underscores; anything else is a
            # copy-paste accident, and could not even travel in an HTTP header.
            raise forms.ValidationError(
                "A Klaviyo API key has only letters, digits and underscores; copy it again."
            )
        if any(ch.isspace() for ch in key):
            raise forms.ValidationError("An API key has no spaces; copy it again from Klaviyo.")
        if len(key) < 10:
            raise forms.ValidationError("That is too short to be a Klaviyo private API key.")
        return key


class ApiKeyForm(ReplaceKeyForm):
    """A new connection's private key, with a name and the optional public key."""

    field_order = ["name", "api_key", "public_key"]

    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="Shown in workflows; defaults to the Klaviyo account's name.",
    )
    public_key = forms.CharField(
        label="Public API key (site id)",
        max_length=64,
        required=False,
        help_text="Only needed for client-side actions; read from your account when left blank.",
    )


class SandboxForm(forms.Form):
    name = forms.CharField(max_length=100, initial="Klaviyo sandbox")


class OAuthForm(forms.Form):
    PRESETS = [
        ("read", "Read only — look things up, never change anything"),
        ("full", "Full access — every scope the catalog's actions need"),
        ("custom", "Choose scopes"),
    ]
    name = forms.CharField(max_length=100, required=False)
    preset = forms.ChoiceField(choices=PRESETS, initial="full", widget=forms.RadioSelect)
    scopes = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args, presets: dict[str, tuple[str, ...]], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.presets = presets
        self.fields["scopes"].choices = [(s, s) for s in presets["full"]]

    def chosen_scopes(self) -> list[str]:
        preset = self.cleaned_data["preset"]
        if preset == "custom":
            return list(self.cleaned_data["scopes"])
        return list(self.presets[preset])

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("preset") == "custom" and not cleaned.get("scopes"):
            self.add_error("scopes", "Choose at least one scope.")
        return cleaned


class RenameForm(forms.ModelForm):
    class Meta:
        model = Connection
        fields = ["name"]
