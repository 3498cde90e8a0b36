"""The catalog of 225 Klaviyo actions: what each does, what it takes, what it sends and returns.

    from integrations.klaviyo.catalog import get_action, build_request, execute

    action = get_action("KLAVIYO_ADD_PROFILE_TO_LIST")
    request = build_request(action, {"list_id": "Y6nRLr", "profile_ids": ["01H..."]})
    data = execute(action, {"list_id": "Y6nRLr", "emails": ["alice@example.com"]}, send)

The data lives in `data/*.json`, generated from Klaviyo's OpenAPI spec and the product seed by
`python manage.py klaviyo_codegen`. Nothing here imports Django.
"""

from .examples import example_input
from .execute import execute
from .registry import (
    Action,
    RateLimit,
    RateLimitCondition,
    all_actions,
    categories,
    get_action,
    list_actions,
)
from .requests import Send, build_request, validate_params
from .types import FileUpload, InvalidInput, KlaviyoRequest, NeedsExecute, UnknownAction

__all__ = [
    "Action",
    "FileUpload",
    "InvalidInput",
    "KlaviyoRequest",
    "NeedsExecute",
    "RateLimit",
    "RateLimitCondition",
    "Send",
    "UnknownAction",
    "all_actions",
    "build_request",
    "categories",
    "example_input",
    "execute",
    "get_action",
    "list_actions",
    "validate_params",
]
