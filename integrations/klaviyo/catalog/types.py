"""The request an action turns into, and the error for input that cannot become one.

Plain dataclasses with no Django import, so the HTTP client, the sandbox and scripts can use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FileUpload:
    """A file part of a multipart request (Klaviyo's image upload)."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class KlaviyoRequest:
    """One HTTP request to Klaviyo, ready for the client.

    `path` has its parameters substituted and URL-quoted; `query` uses Klaviyo's own names
    (`filter`, `fields[profile]`, `page[cursor]`); `body` is the JSON:API document or None.
    `client_side` requests go to `/client/...` with the public key (`company_id`) instead of
    the private key. A multipart upload carries `form` fields and `files` instead of `body`.
    `action_key` names the catalog action it was built from, whose rate limits it draws on.
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    client_side: bool = False
    form: Mapping[str, str] | None = None
    files: Mapping[str, FileUpload] | None = None
    operation_id: str = ""
    action_key: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly view (file contents replaced by their size) for logs and tests."""
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "body": self.body,
            "client_side": self.client_side,
            "form": dict(self.form) if self.form is not None else None,
            "files": {
                name: {"filename": f.filename, "bytes": len(f.content), "type": f.content_type}
                for name, f in (self.files or {}).items()
            }
            or None,
            "operation_id": self.operation_id,
            "action_key": self.action_key,
        }


class InvalidInput(ValueError):
    """The parameters of an action do not match its input schema; nothing was sent.

    `errors` maps a field path (`emails[3]`, `location.city`, or `""` for the whole input) to
    its messages, like a Django form's `errors`.
    """

    def __init__(self, errors: Mapping[str, list[str]], action_key: str = "") -> None:
        self.errors: dict[str, list[str]] = {key: list(value) for key, value in errors.items()}
        self.action_key = action_key
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Return every problem on one line: `emails[3]: 'bob@' is not a valid email; ...`."""
        parts = []
        for path, messages in self.errors.items():
            for text in messages:
                parts.append(f"{path}: {text}" if path else text)
        prefix = f"Invalid input for {self.action_key}: " if self.action_key else "Invalid input: "
        return prefix + "; ".join(parts)

    def as_list(self) -> list[dict[str, str]]:
        """Return the problems as `[{"field": ..., "message": ...}]` for JSON answers."""
        return [
            {"field": path, "message": text}
            for path, messages in self.errors.items()
            for text in messages
        ]


class UnknownAction(KeyError):
    """No catalog action has this key."""

    def __init__(self, key: str, suggestions: list[str] | None = None) -> None:
        self.key = key
        self.suggestions = suggestions or []
        super().__init__(key)

    def __str__(self) -> str:
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"Unknown Klaviyo action {self.key!r}{hint}"


class NeedsExecute(TypeError):
    """This input needs several requests (e.g. looking up profiles by email); call `execute`."""
