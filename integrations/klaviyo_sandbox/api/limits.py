"""What a request may carry, checked before any of it reaches the database or a recursive function.

PostgreSQL refuses NUL in text columns (`\\x00`) and in jsonb (`\\u0000`), and neither SQLite nor
PostgreSQL can store a lone UTF-16 surrogate (`\\ud800`, valid JSON but not UTF-8). Python's JSON
decoder and the schema validator recurse once per level of nesting. So the texts of a request
(path parameters, query parameters, form fields) are checked here, and JSON bodies are decoded
strictly: at most MAX_DEPTH levels deep, integers within the signed 64-bit range, finite numbers
only (no NaN or Infinity, which jsonb cannot hold), and no unstorable text in any key or string.
Every refusal is Klaviyo's 400 `invalid` naming the parameter or the body member.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

from builder import strictjson
from builder.strictjson import text_problem
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid

# The deepest body any Klaviyo operation's schema describes is 16 levels (a template); free-form
# members (profile properties) may nest further: strictjson's MAX_DEPTH of 64 is generous.


def check_params(path_params: dict[str, str], query: MultiValueDict[str, str]) -> None:
    """Raise a 400 when a path or query parameter (name or value) holds unstorable text."""
    for name, value in path_params.items():
        _check_field(name, [value], "path parameter")
    for name, values in query.lists():
        _check_field(name, values, "parameter")


def check_form(fields: MultiValueDict[str, str], files: MultiValueDict[str, UploadedFile]) -> None:
    """Raise a 400 when a multipart field (name or value) or a file name holds unstorable text."""
    for name, values in fields.lists():
        _check_field(name, values, "field")
    for name, uploads in files.lists():
        _check_field(name, [upload.name or "" for upload in uploads], "file field")


def _check_field(name: str, values: Iterable[str], what: str) -> None:
    for text in (name, *values):
        problem = text_problem(text)
        if problem:
            raise invalid(f"The {what} {name[:100]!r} {problem}.", parameter=name[:100])


def load_json(raw: bytes) -> Any:
    """Decode a JSON request body strictly (see the module docstring); raise a 400 otherwise."""
    try:
        return strictjson.loads(raw)
    except strictjson.JsonRefused as refused:
        raise _invalid(refused) from refused


def check_document(document: Any) -> None:
    """Raise a 400 for a member nested past MAX_DEPTH or a key or string with unstorable text."""
    try:
        strictjson.check_document(document)
    except strictjson.JsonRefused as refused:
        raise _invalid(refused) from refused


def _invalid(refused: strictjson.JsonRefused) -> ApiError:
    """Word a refusal as Klaviyo's 400, pointing at the member."""
    at = pointer(refused.path)
    if refused.kind == "text":
        return invalid(f"Invalid input at {at}: {refused}.", pointer=at)
    if refused.kind == "number":
        return invalid(f"The request body is not accepted: {refused}.", pointer="/")
    # "nested more than 64 levels deep", "not valid JSON: ..."
    return invalid(f"The request body is {refused}.", pointer=at)


def pointer(path: tuple[str, ...]) -> str:
    """Return the JSON pointer (RFC 6901) of a path of member names and indexes."""
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in path)
    return "/" + "/".join(escaped) if path else "/"
