"""Words and sample values for fields the spec and the seed leave bare."""

from __future__ import annotations

#: Descriptions for fields neither the spec nor the seed describe.
FIELD_DESCRIPTIONS = {
    "anonymous_id": "Id that identifies a profile when no other identifier is available.",
    "location": (
        "Where the profile is: address1, address2, city, region, zip, country, latitude, "
        "longitude, timezone, ip."
    ),
    "events": "The events to record for this profile; each needs metric_name and properties.",
    "subscriptions": (
        "The channels and message types the profile consents to (email, sms, whatsapp, push)."
    ),
    "definition": "The segment's conditions: condition_groups (all must hold) of conditions.",
    "is_starred": "Whether the segment is starred in Klaviyo.",
    "name": "The name to give it.",
    "exclusive": "Whether a resource may carry only one tag of this group (default false).",
    "item_ids": "Catalog item ids, like `$custom:::$default:::SKU-1`.",
    "category_ids": "Catalog category ids, like `$custom:::$default:::APPAREL`.",
    "coupon_id": "The coupon's id (its external id, like 10OFF).",
    "resource_ids": "Ids of the campaigns, flows, lists or segments chosen by related_resource.",
    "webhook_topic_ids": "Webhook topics to subscribe to, like event:klaviyo.sent_sms.",
    "job_id": "Id of the bulk profile import job.",
    "source_profile_ids": (
        "Profiles to merge into the destination profile; they are deleted after the merge."
    ),
    "list_ids": "Lists to add the imported profiles to.",
    "image_id": "Id of an image from the image library to use in the message.",
}

#: Realistic ids for fields whose spec operations show none (shapes from Klaviyo's docs).
ID_EXAMPLES = {
    "campaign_id": "01GMRWDSA0ARTAKE1SFX8JGXAY",
    "campaign_message_id": "01GMRWDSA0ARTAKE1SFX8JGXB0",
    "event_id": "4vRpBT5RFDx",
    "flow_id": "XVTP5Q",
    "flow_action_id": "67890",
    "flow_message_id": "01GMRWDSA0ARTAKE1SFX8JGXB1",
    "template_id": "RipRmi",
    "webhook_id": "01HQ4XW9T0XAQ8RGKMDNBMG8S4",
    "source_profile_id": "01GDDKASAP8TKDDA2GRZDSVP4J",
}
