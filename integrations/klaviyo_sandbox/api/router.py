"""Match a method and path against the operation table's path templates.

`/api/lists/{id}/relationships/profiles` becomes a regular expression; templates with more
literal segments win, so `/api/campaign-clone` is never taken for `/api/campaigns/{id}`. A path
no template matches answers 404 `route_not_found`; a known path with another method answers 405.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from integrations.klaviyo_sandbox.api.errors import ApiError
from integrations.klaviyo_sandbox.api.operations import operations

_PARAM = re.compile(r"\{([a-z_]+)\}")


@cache
def _routes() -> list[tuple[re.Pattern[str], dict[str, dict[str, Any]]]]:
    by_path: dict[str, dict[str, dict[str, Any]]] = {}
    for op in operations().values():
        by_path.setdefault(op["path"], {})[op["method"]] = op
    compiled = []
    for template, methods in by_path.items():
        parts = []
        for segment in template.strip("/").split("/"):
            param = _PARAM.fullmatch(segment)
            parts.append(f"(?P<{param.group(1)}>[^/]+)" if param else re.escape(segment))
        literal_segments = sum(1 for part in template.split("/") if part and "{" not in part)
        regex = re.compile("^/" + "/".join(parts) + "$")
        compiled.append((literal_segments, template, regex, methods))
    compiled.sort(key=lambda item: (-item[0], item[1]))
    return [(regex, methods) for _, _, regex, methods in compiled]


def route(method: str, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Return `(operation, path parameters)` for a request; raise ApiError(404/405) otherwise.

    `path` starts at `/api/` or `/client/`; one trailing slash is ignored, as Klaviyo does.
    """
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    for regex, methods in _routes():
        match = regex.match(path)
        if not match:
            continue
        op = methods.get(method.upper())
        if op is None:
            allowed = ", ".join(sorted(methods))
            raise ApiError(
                405,
                "method_not_allowed",
                f'Method "{method.upper()}" not allowed on {path}; allowed: {allowed}.',
                headers={"Allow": allowed},
            )
        params = match.groupdict()
        if "job_id" in params:
            params["id"] = params["job_id"]
        return op, params
    raise ApiError(404, "route_not_found", f"No Klaviyo endpoint matches {method.upper()} {path}.")
