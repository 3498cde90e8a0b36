"""Per-action adjustments where the seed (the product) differs from a plain spec flattening.

Each entry may hold:
  rename       {generated name: better name}
  fields       {name: {"required": bool, "schema": {...merged...}, "description": str}}
  add_fields   {name: {"schema": {...}, "required": bool, "bindings": [...]}}; no bindings means
               only a composite handler reads the field
  any_of       alternatives of required fields (`[["emails"], ["profile_ids"]]`)
  variants     {"field", "allowed", "ids_field", "description"} for `{related_resource}` actions
  composite    name of the handler in `catalog/composites.py` that runs the action
  output       JSON schema of `data` for composite actions
  side_effect  when the rule of thumb in `assemble.side_effect` is wrong
"""

from __future__ import annotations

from typing import Any

from ..examples import TINY_PNG_BASE64


def _emails(max_items: int) -> dict[str, Any]:
    """Return the schema of a list of distinct email addresses, at most `max_items`."""
    return {
        "type": "array",
        "items": {"type": "string", "format": "email"},
        "minItems": 1,
        "maxItems": max_items,
        "uniqueItems": True,
    }


_EMAILS_FOR_LIST = _emails(1000)
_LIST_RESULT = {
    "type": "object",
    "properties": {
        "list_id": {"type": "string", "description": "The list the profiles were changed in."},
        "profile_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Every profile id sent to Klaviyo.",
        },
        "created_profile_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Profiles created because no profile had the email yet.",
        },
        "not_found_emails": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Emails that matched no profile (and so were skipped).",
        },
    },
    "required": ["list_id", "profile_ids"],
}
_PROFILE_EMAILS = _emails(100)
_UNSUBSCRIBE_EMAIL = {
    "type": "profile",
    "attributes": {"subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}}},
}
_SUPPRESSION_TARGETS = [["profiles"], ["list_id"], ["segment_id"]]
_TAG_TARGETS = {
    "field": "related_resource",
    "ids_field": "resource_ids",
    "description": "Which kind of resource the ids in resource_ids are.",
}


def _bulk(limit: int, field: str, example: list[Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"maxItems": limit}
    if example is not None:
        schema["examples"] = [example]
    return {"fields": {field: {"schema": schema}}}


def _consent(consent: str) -> list[dict[str, Any]]:
    return [
        {
            "email": "alice@example.com",
            "subscriptions": {"email": {"marketing": {"consent": consent}}},
        }
    ]


_EVENT = {"metric_name": "Viewed Product", "properties": {"product_id": "SKU-1"}}


def _list_membership(composite: str) -> dict[str, Any]:
    """Return the override of a list-membership action taking profile ids *or* emails."""
    return {
        "composite": composite,
        "fields": {
            "profile_ids": {"required": False, "schema": {"maxItems": 1000, "uniqueItems": True}}
        },
        "add_fields": {"emails": {"schema": _EMAILS_FOR_LIST}},
        "any_of": [["profile_ids"], ["emails"]],
        "output": _LIST_RESULT,
    }


OVERRIDES: dict[str, dict[str, Any]] = {
    "KLAVIYO_ADD_PROFILE_TO_LIST": _list_membership("add_profiles_to_list"),
    "KLAVIYO_REMOVE_PROFILE_FROM_LIST": _list_membership("remove_profiles_from_list"),
    "KLAVIYO_UNSUBSCRIBE_PROFILES_BULK": {
        "drop_fields": ["profiles"],
        "add_fields": {
            "emails": {
                "schema": _PROFILE_EMAILS,
                "required": True,
                "bindings": [
                    {
                        "body": ["data", "attributes", "profiles", "data"],
                        "each": _UNSUBSCRIBE_EMAIL,
                        "at": ["attributes", "email"],
                    }
                ],
            }
        },
        "fields": {"list_id": {"required": True}},
    },
    "KLAVIYO_UNSUPPRESS_PROFILES_BULK": {
        "drop_fields": ["profiles", "list_id", "segment_id"],
        "add_fields": {
            "emails": {
                "schema": _PROFILE_EMAILS,
                "required": True,
                "bindings": [
                    {
                        "body": ["data", "attributes", "profiles", "data"],
                        "each": {"type": "profile", "attributes": {}},
                        "at": ["attributes", "email"],
                    }
                ],
            }
        },
    },
    "KLAVIYO_GET_ACCOUNT": {
        "composite": "get_account",
        "fields": {
            "account_id": {
                "required": False,
                "description": (
                    "The account's id (its public API key); leave it out for the connected account."
                ),
            }
        },
    },
    "KLAVIYO_GET_CAMPAIGNS": {
        "add_fields": {
            "channel": {
                "schema": {
                    "type": "string",
                    "enum": ["email", "sms", "mobile_push"],
                    "description": "Campaign channel to list; Klaviyo lists one channel at a time.",
                },
                "required": True,
                "bindings": [{"filter": "equals(messages.channel,{})"}],
            }
        },
        # The channel has its own field; show a filter that adds something to it.
        "fields": {
            "filter": {"required": False, "schema": {"examples": ['equals(status,"Draft")']}}
        },
    },
    "KLAVIYO_QUERY_METRIC_AGGREGATES": {
        "fields": {"filter": {"required": False}},
        "add_fields": {
            "timeframe": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "string", "format": "date-time"},
                        "end": {"type": "string", "format": "date-time"},
                    },
                    "required": ["start", "end"],
                    "additionalProperties": False,
                    "examples": [{"start": "2025-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z"}],
                },
                "bindings": [
                    {
                        "body": ["data", "attributes", "filter"],
                        "append": [
                            "greater-or-equal(datetime,{start})",
                            "less-than(datetime,{end})",
                        ],
                    }
                ],
            }
        },
        "any_of": [["filter"], ["timeframe"]],
    },
    "KLAVIYO_REQUEST_PROFILE_DELETION": {
        "any_of": [["profile_id"], ["email"], ["phone_number"]],
        "side_effect": "destructive",
    },
    "KLAVIYO_SUPPRESS_PROFILES": {
        "any_of": _SUPPRESSION_TARGETS,
        "fields": {"profiles": {"schema": {"maxItems": 100}}},
    },
    "KLAVIYO_UNSUPPRESS_PROFILES": {
        "any_of": _SUPPRESSION_TARGETS,
        "fields": {"profiles": {"schema": {"maxItems": 100}}},
    },
    "KLAVIYO_UNSUBSCRIBE_PROFILES": {
        **_bulk(100, "profiles", _consent("UNSUBSCRIBED")),
        "items_identify_profile": ["profiles"],
    },
    "KLAVIYO_SUBSCRIBE_PROFILES": {
        **_bulk(1000, "profiles", _consent("SUBSCRIBED")),
        "items_identify_profile": ["profiles"],
    },
    "KLAVIYO_SPAWN_BULK_PROFILE_IMPORT_JOB": {
        **_bulk(10000, "profiles", [{"email": "alice@example.com", "first_name": "Alice"}]),
        "items_identify_profile": ["profiles"],
    },
    "KLAVIYO_SPAWN_COUPON_CODE_BULK_CREATE_JOB": _bulk(1000, "coupon_codes"),
    "KLAVIYO_SPAWN_CREATE_CATEGORIES_JOB": _bulk(100, "categories"),
    "KLAVIYO_SPAWN_CREATE_ITEMS_JOB": _bulk(100, "items"),
    "KLAVIYO_SPAWN_CREATE_VARIANTS_JOB": _bulk(100, "variants"),
    "KLAVIYO_SPAWN_UPDATE_CATEGORIES_JOB": _bulk(
        100, "categories", [{"id": "$custom:::$default:::SAMPLE-1", "name": "Apparel"}]
    ),
    "KLAVIYO_SPAWN_UPDATE_ITEMS_JOB": _bulk(
        100, "items", [{"id": "$custom:::$default:::SAMPLE-1", "price": 42.0}]
    ),
    "KLAVIYO_SPAWN_UPDATE_VARIANTS_JOB": _bulk(
        100, "variants", [{"id": "$custom:::$default:::SAMPLE-1", "inventory_quantity": 10}]
    ),
    "KLAVIYO_SPAWN_DELETE_CATEGORIES_JOB": {
        **_bulk(100, "category_ids"),
        "side_effect": "destructive",
    },
    "KLAVIYO_SPAWN_DELETE_ITEMS_JOB": {**_bulk(100, "item_ids"), "side_effect": "destructive"},
    "KLAVIYO_SPAWN_DELETE_VARIANTS_JOB": {
        **_bulk(100, "variant_ids"),
        "side_effect": "destructive",
    },
    "KLAVIYO_BULK_CREATE_EVENTS": {
        **_bulk(1000, "events_bulk_create", [{"email": "alice@example.com", "events": [_EVENT]}]),
        "items_identify_profile": ["events_bulk_create"],
    },
    "KLAVIYO_BULK_CREATE_CLIENT_EVENTS": {**_bulk(1000, "events"), "identify_profile": True},
    "KLAVIYO_CREATE_EVENT": {
        "identify_profile": True,
        "fields": {"properties": {"required": False, "schema": {"default": {}}}},
    },
    "KLAVIYO_CREATE_CLIENT_EVENT2": {
        "identify_profile": True,
        "fields": {"properties": {"required": False, "schema": {"default": {}}}},
    },
    "KLAVIYO_CREATE_BACK_IN_STOCK_SUBSCRIPTION": {"identify_profile": True},
    "KLAVIYO_CREATE_CLIENT_BACK_IN_STOCK_SUBSCRIPTION": {"identify_profile": True},
    "KLAVIYO_CREATE_OR_UPDATE_PROFILE": {"identify_profile": True},
    "KLAVIYO_CREATE_OR_UPDATE_CLIENT_PROFILE": {"identify_profile": True},
    "KLAVIYO_CREATE_PROFILE": {"identify_profile": True},
    "KLAVIYO_CREATE_OR_UPDATE_PUSH_TOKEN": {"identify_profile": True},
    "KLAVIYO_CREATE_OR_UPDATE_CLIENT_PUSH_TOKEN": {"identify_profile": True},
    "KLAVIYO_CREATE_CAMPAIGN_SEND_JOB": {
        "rename": {"campaign_send_job_id": "campaign_id"},
        "side_effect": "send",
    },
    "KLAVIYO_CANCEL_CAMPAIGN_SEND": {"side_effect": "send"},
    "KLAVIYO_CREATE_CAMPAIGN_RECIPIENT_ESTIMATION_JOB": {
        "rename": {"campaign_recipient_estimation_job_id": "campaign_id"},
    },
    "KLAVIYO_MERGE_PROFILES": {
        "rename": {
            "profile_merge_id": "destination_profile_id",
            "profile_ids": "source_profile_ids",
        },
        "side_effect": "destructive",
    },
    "KLAVIYO_CREATE_CAMPAIGN": {
        "fields": {
            "campaign_messages": {
                "schema": {
                    "examples": [
                        [
                            {
                                "definition": {
                                    "channel": "email",
                                    "label": "Spring sale",
                                    "content": {
                                        "subject": "Spring sale starts now",
                                        "from_email": "store@example.com",
                                        "from_label": "Example Store",
                                    },
                                }
                            }
                        ]
                    ]
                }
            }
        }
    },
    "KLAVIYO_CREATE_TEMPLATE": {
        "fields": {
            "editor_type": {
                "schema": {
                    "enum": ["CODE", "USER_DRAGGABLE", "SYSTEM_DRAGGABLE"],
                    "default": "CODE",
                }
            }
        },
    },
    "KLAVIYO_CREATE_TAG_RELATIONSHIPS": {
        "variants": {**_TAG_TARGETS, "allowed": ["campaigns", "flows", "lists", "segments"]},
    },
    "KLAVIYO_DELETE_TAG_RELATIONSHIPS": {
        "variants": {**_TAG_TARGETS, "allowed": ["campaigns", "flows", "lists", "segments"]},
    },
    "KLAVIYO_GET_TAG_RELATIONSHIPS": {
        "variants": {
            "field": "related_resource",
            "allowed": ["campaigns", "flows", "lists", "segments", "tag-group"],
            "description": "Which related ids to return.",
        },
    },
    "KLAVIYO_GET_EVENT_RELATIONSHIPS": {
        "variants": {
            "field": "related_resource",
            "allowed": ["metric", "profile"],
            "description": "Return the event's metric id or its profile id.",
        },
    },
    # The seed offers fewer kinds than the map lists; the seed wins.
    "KLAVIYO_GET_LIST_RELATIONSHIPS": {
        "variants": {
            "field": "related_resource",
            "allowed": ["profiles"],
            "description": "The related resource to return ids for (only profiles).",
        },
    },
    "KLAVIYO_GET_PROFILE_RELATIONSHIPS": {
        "variants": {
            "field": "related_resource",
            "allowed": ["lists", "segments"],
            "description": "Return the ids of the lists or of the segments the profile is in.",
        },
    },
    "KLAVIYO_GET_SEGMENT_RELATIONSHIPS": {
        "variants": {
            "field": "related_resource",
            "allowed": ["profiles", "tags"],
            "description": "Return the segment's member profile ids or its tag ids.",
        },
    },
    "KLAVIYO_UPDATE_CATALOG_CATEGORY_RELATIONSHIPS": {
        "variants": {
            "field": "related_resource",
            "allowed": ["items"],
            "description": "The related resource to replace (only items).",
        },
    },
    "KLAVIYO_CREATE_CLIENT_SUBSCRIPTION": {"side_effect": "consent", "identify_profile": True},
    "KLAVIYO_UNREGISTER_CLIENT_PUSH_TOKEN": {"side_effect": "consent", "identify_profile": True},
    "KLAVIYO_CREATE_TEMPLATE_RENDER": {"side_effect": "read"},
    "KLAVIYO_UPDATE_FLOW_STATUS": {
        "fields": {"status": {"schema": {"enum": ["draft", "manual", "live"]}}},
    },
    "KLAVIYO_CREATE_SEGMENT": {
        "fields": {"name": {"schema": {"examples": ["VIP customers"]}}},
    },
    "KLAVIYO_UPLOAD_IMAGE_FROM_FILE": {
        "fields": {
            "file": {
                "description": (
                    "The image to upload, base64-encoded (a data:image/...;base64, URI works "
                    "too). JPEG, PNG or GIF, at most 5 MB."
                ),
                "schema": {
                    "contentMediaType": "image/*",
                    "pattern": r"^(data:image/[a-z0-9.+-]+;base64,)?[A-Za-z0-9+/]+={0,2}$",
                    "maxLength": 7_000_100,
                    "examples": [TINY_PNG_BASE64],
                },
            }
        }
    },
}
