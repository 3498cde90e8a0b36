"""The runs list's filters and the replay choices, read from the query string or a form."""

from __future__ import annotations

from django import forms

from builder.models import Run, Workflow, Workspace
from builder.selectors.runs import RunFilters
from builder.services.replays import START_CHOICES, VERSION_CHOICES

TRIGGERS = [(value, label) for value, label in Run.Trigger.choices if value != Run.Trigger.TEST]


class RunFilterForm(forms.Form):
    """Status, workflow, trigger, date range and search: each optional, all kept in the URL."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="A run id, an email or other value of the trigger data, or words of the error.",
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Run.Status.choices]
    )
    workflow = forms.ModelChoiceField(
        label="Workflow",
        required=False,
        queryset=Workflow.objects.none(),
        empty_label="Any workflow",
    )
    trigger = forms.ChoiceField(
        label="Trigger", required=False, choices=[("", "Any trigger"), *TRIGGERS]
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, workspace: Workspace, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        field = self.fields["workflow"]
        field.queryset = Workflow.objects.for_workspace(workspace).order_by("name", "id")  # type: ignore[attr-defined]

    def clean(self) -> dict:  # type: ignore[type-arg]
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date comes before the start date.")
        return data

    def filters(self) -> RunFilters:
        """The valid fields as filters; a field with an error is left out, not guessed."""
        data = self.cleaned_data if self.is_bound else {}
        workflow = data.get("workflow")
        return RunFilters(
            status=data.get("status") or "",
            workflow_id=workflow.pk if workflow else None,
            trigger=data.get("trigger") or "",
            since=data.get("since") if "until" not in self.errors else None,
            until=data.get("until") if "until" not in self.errors else None,
            query=(data.get("q") or "").strip(),
        )


class ReplayForm(forms.Form):
    """Where a replay starts and which version it runs; `confirm` once repeats were named."""

    start = forms.ChoiceField(
        label="Start",
        choices=[(START_CHOICES[0], "From the start"), (START_CHOICES[1], "From the failed step")],
        initial=START_CHOICES[1],
    )
    version = forms.ChoiceField(
        label="Version",
        choices=[
            (VERSION_CHOICES[0], "The version it ran"),
            (VERSION_CHOICES[1], "The current published version"),
        ],
        initial=VERSION_CHOICES[0],
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
