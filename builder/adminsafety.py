"""A changelist that refuses, with a 400, queries no database can answer.

PostgreSQL refuses NUL in a query parameter, and SQLite's LIKE (the admin's search) refuses
patterns over 50,000 bytes; both would be 500s. Every model admin of the project uses this.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse

MAX_SEARCH = 1000


class GuardedModelAdmin(admin.ModelAdmin):
    """A model admin whose changelist checks its query parameters first."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Refuse NUL in any parameter and a search past MAX_SEARCH characters."""
        for name, values in request.GET.lists():
            if any("\x00" in text for text in (name, *values)):
                raise BadRequest(f"The parameter {name!r} contains a NUL character.")
        if len(request.GET.get("q", "")) > MAX_SEARCH:
            raise BadRequest(f"Search for at most {MAX_SEARCH} characters.")
        return super().changelist_view(request, extra_context)
