"""Turn an action and its parameters into the Klaviyo request(s) it stands for.

`build_request` validates the parameters against the action's input schema, then fills the
action's request template: path parameters are substituted and URL-quoted, query parameters use
Klaviyo's names, and the JSON:API body gets its fixed `type`s and the path id repeated where
Klaviyo wants it. Binding kinds are documented in `generate/flatten.py`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from .registry import Action, get_action
from .types import FileUpload, InvalidInput, KlaviyoRequest, NeedsExecute

#: What `execute` needs to reach Klaviyo: send one request, return the parsed JSON answer
#: (None for an empty answer), raise on an HTTP error.
Send = Callable[[KlaviyoRequest], Any]

_validators: dict[str, Any] = {}
_validators_lock = threading.Lock()


def _check(action: Action, params: Mapping[str, Any]) -> None:
    """Raise InvalidInput unless `params` fit the action's input schema."""
    # jsonschema takes ~80 ms to import: load it with the first validation, not the catalog.
    from .validation import make_validator, validate

    found = _validators.get(action.key)
    if found is None:
        with _validators_lock:
            found = _validators.setdefault(action.key, make_validator(action.input_schema))
    validate(found, params, action.key)


def resolve(action: Action | str) -> Action:
    """Return the Action for an Action or a key."""
    return action if isinstance(action, Action) else get_action(action)


def validate_params(action: Action | str, params: Mapping[str, Any]) -> None:
    """Raise InvalidInput with per-field messages unless `params` fit the action's schema."""
    _check(resolve(action), params)


def build_request(action: Action | str, params: Mapping[str, Any]) -> KlaviyoRequest:
    """Validate `params` and return the one request the action sends.

    Raise InvalidInput (nothing is sent) when the parameters do not fit the input schema, and
    NeedsExecute when this input takes several requests (add to a list *by email* first looks
    the profiles up); `catalog.execute` runs those.
    """
    action = resolve(action)
    _check(action, params)
    return render(action, params)


def render(action: Action, params: Mapping[str, Any]) -> KlaviyoRequest:
    """Fill the action's request template with already validated `params`."""
    template = _template(action, params)
    bindings = template["bindings"]
    # A composite action's extra fields (`emails`) have no binding: only its handler can serve
    # them. A variant action's fields for other variants ("only used when ...") are ignored.
    unbound = [name for name in params if name not in bindings and params[name] is not None]
    if action.composite and unbound:
        raise NeedsExecute(
            f"{action.key} with {', '.join(sorted(unbound))} takes several requests; use execute()"
        )
    values = {**template.get("defaults", {}), **params}
    return _Renderer(action, template).render(values)


def _template(action: Action, params: Mapping[str, Any]) -> dict[str, Any]:
    if action.variants is None:
        assert action.request is not None  # noqa: S101 -- every plain action has one
        return action.request
    field = action.variant_field or ""
    choice = params.get(field) or action.input_schema["properties"][field].get("default")
    if choice not in action.variants:
        raise InvalidInput({field: [f"{choice!r} is not one of {', '.join(action.variants)}"]})
    return action.variants[choice]


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_query_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _filter_value(value: Any) -> str:
    """Render a value inside a filter expression: strings quoted, the rest bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_filter_value(item) for item in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


def _set(target: dict[str, Any], path: list[str], value: Any) -> None:
    node = target
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _get(target: Any, path: list[str]) -> Any:
    node = target
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _identifier(kind: str, value: Any) -> Any:
    if isinstance(value, list):
        return [{"type": kind, "id": item} for item in value]
    return {"type": kind, "id": value}


def _constants(document: dict[str, Any], constants: list[list[Any]]) -> None:
    for path, value, anchor in constants:
        if _get(document, anchor) is not None and _get(document, path) is None:
            _set(document, path, copy.deepcopy(value))


class _Renderer:
    """Apply one template's bindings to a set of parameter values."""

    def __init__(self, action: Action, template: dict[str, Any]) -> None:
        self.action = action
        self.template = template
        self.path = template["path"]
        self.query: dict[str, str] = {}
        self.filters: list[str] = []
        body = template.get("body")
        self.body = copy.deepcopy(body) if body is not None else None
        self.form: dict[str, str] = {}
        self.files: dict[str, FileUpload] = {}

    def render(self, values: Mapping[str, Any]) -> KlaviyoRequest:
        """Return the request for these parameter values (defaults already merged in)."""
        appends = []
        for name, value in values.items():
            if value is None and name not in self.template["bindings"]:
                continue
            for binding in self.template["bindings"].get(name, ()):
                if "append" in binding:
                    appends.append((binding, value))
                else:
                    self._apply(name, binding, value)
        for binding, value in appends:
            self._append(binding, value)
        if self.body is not None:
            _constants(self.body, self.template.get("constants", []))
        if self.filters:
            given = self.query.get("filter")
            self.query["filter"] = ",".join([*self.filters, *([given] if given else [])])
        return KlaviyoRequest(
            method=self.template["method"],
            path=self.path,
            query=self.query,
            body=self.body,
            client_side=self.action.client_side,
            form=self.form or None,
            files=self.files or None,
            operation_id=self.template["operation_id"],
            action_key=self.action.key,
        )

    def _apply(self, name: str, binding: dict[str, Any], value: Any) -> None:
        if value is None and "body" not in binding:
            return  # a null query or form value means "not given"
        if "path" in binding:
            # Catalog ids contain `:` and `$`; Klaviyo wants them percent-encoded.
            quoted = quote(str(value), safe="")
            self.path = self.path.replace("{" + binding["path"] + "}", quoted)
        elif "query" in binding:
            self.query[binding["query"]] = _query_value(value)
        elif "filter" in binding:
            self.filters.append(binding["filter"].replace("{}", _filter_value(value)))
        elif "form" in binding:
            self.form[binding["form"]] = _query_value(value)
        elif "file" in binding:
            self.files[binding["file"]] = _decode_file(name, value)
        elif "body" in binding:
            assert self.body is not None  # noqa: S101 -- only JSON bodies have body bindings
            _set(self.body, binding["body"], _body_value(binding, value))

    def _append(self, binding: dict[str, Any], value: Mapping[str, Any]) -> None:
        assert self.body is not None  # noqa: S101
        current = _get(self.body, binding["body"]) or []
        extra = [item.format(**value) for item in binding["append"]]
        _set(self.body, binding["body"], [*current, *extra])


def _body_value(binding: dict[str, Any], value: Any) -> Any:
    if "ref" in binding:
        return _identifier(binding["ref"], value)
    if "each" in binding:
        items = []
        for item in value:
            built = copy.deepcopy(binding["each"])
            _set(built, binding["at"], item)
            items.append(built)
        return items
    if "items" in binding:
        nested = binding["items"]
        built_items = []
        for item in value:
            document = copy.deepcopy(nested["body"])
            for name, item_value in item.items():
                for inner in nested["bindings"].get(name, ()):
                    _set(document, inner["body"], _body_value(inner, item_value))
            _constants(document, nested.get("constants", []))
            built_items.append(document)
        return built_items
    return copy.deepcopy(value)


def _decode_file(name: str, value: str) -> FileUpload:
    """Decode a base64 (or `data:` URI) image into an upload part."""
    content_type = "application/octet-stream"
    if value.startswith("data:"):
        header, _, value = value.partition(",")
        content_type = header[5:].split(";")[0] or content_type
    try:
        content = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput({name: ["is not valid base64 file content"]}) from None
    if content_type == "application/octet-stream":
        content_type = _sniff(content)
    extension = content_type.rsplit("/", 1)[-1]
    return FileUpload(filename=f"upload.{extension}", content=content, content_type=content_type)


def _sniff(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return "application/octet-stream"
