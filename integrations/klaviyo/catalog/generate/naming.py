"""Readable input field names for Klaviyo's path, query and body parameters."""

from __future__ import annotations

import re

MAX_FIELD_NAME = 64

# Klaviyo's job ids for these two "jobs" are the campaign's id, so say so.
_PATH_ID_NAMES = {
    "campaign-send-jobs": "campaign_id",
    "campaign-recipient-estimation-jobs": "campaign_id",
    "campaign-recipient-estimations": "campaign_id",
}
_IRREGULAR = {"categories": "category", "data": "data", "series": "series", "status": "status"}
# Body attribute names that read badly as field names.
_ATTRIBUTE_NAMES = {"_kx": "exchange_id"}


def snake(name: str) -> str:
    """Return `name` as snake_case (`campaign-messages` -> `campaign_messages`)."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_")
    return name.lower()


def singular(word: str) -> str:
    """Return the singular of a resource name (`catalog-categories` -> `catalog-category`)."""
    head, _, last = word.rpartition("-")
    if last in _IRREGULAR:
        last = _IRREGULAR[last]
    elif last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return f"{head}-{last}" if head else last


def title_from_key(key: str) -> str:
    """Return an action's display title (`KLAVIYO_ADD_PROFILE_TO_LIST` -> `Add Profile To List`)."""
    words = key.removeprefix("KLAVIYO_").split("_")
    return " ".join(word.capitalize() for word in words if word)


def path_param_name(path: str, param: str) -> str:
    """Name a path parameter after the resource it identifies (`/api/lists/{id}` -> `list_id`)."""
    if param != "id":
        return snake(param)
    segments = path.strip("/").split("/")
    collection = segments[segments.index("{id}") - 1]
    if collection in _PATH_ID_NAMES:
        return _PATH_ID_NAMES[collection]
    if collection.endswith("-jobs"):
        return "job_id"
    return snake(singular(collection)) + "_id"


def query_field_name(param: str) -> str:
    """Name a query parameter (`fields[campaign-message]` -> `fields_campaign_message`)."""
    return snake(param.replace("[", "_").replace("]", ""))


def attribute_field_name(attribute: str) -> str:
    """Name an attribute (`campaign-messages` -> `campaign_messages`, `_kx` -> `exchange_id`)."""
    return _ATTRIBUTE_NAMES.get(attribute) or snake(attribute)


def relationship_field_name(relationship: str, many: bool) -> str:
    """Name a relationship field (`tag-group` -> `tag_group_id`, `tags` -> `tag_ids`)."""
    base = snake(singular(relationship))
    return f"{base}_ids" if many else f"{base}_id"


def resource_id_field_name(resource_type: str) -> str:
    """Name a body `data.id` the user supplies (`template` -> `template_id`)."""
    return snake(resource_type) + "_id"
