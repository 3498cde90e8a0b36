"""Match the seed's unnamed parameter descriptions to the generated fields.

The seed lists each action's parameter *descriptions* without their names, often in wording of
its own ("The ID of the list to add profiles to"). Where one clearly describes a field we use it
as that field's description; the rest keep the spec's wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .spec import one_line

_STOP = {
    *("a", "an", "the", "of", "to", "for", "in", "on", "and", "or", "is", "be", "by", "with"),
    *("this", "that", "it", "its", "if", "are", "as", "at", "from", "which", "will", "can"),
    *("use", "used", "when", "not", "only"),
}
# Descriptions that say nothing a field name does not already say, or describe what we fill in.
_SKIP = re.compile(
    r"^(for more information please visit|resource type|the resource type|type$|data$|id$)"
    r"|must match the .?id.? path parameter|must be '[a-z-]+'\.?$|in the request body",
    re.IGNORECASE,
)
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "sort": ("sort",),
    "filter": ("filter",),
    "page_cursor": ("cursor", "pagination", "next page"),
    "page_size": ("per page", "page size", "number of", "default: "),
    "include": ("include", "related resources"),
}


def _stem(word: str) -> str:
    if word in ("identifier", "identifiers"):
        return "id"
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))
    return [_stem(word) for word in words if word not in _STOP and len(word) > 1]


def _tokens(text: str) -> set[str]:
    return set(_words(text))


def _is_useless(text: str) -> bool:
    if _SKIP.search(text):
        return True
    # Title-case labels ("Is Starred", "Condition Groups") only restate the field name.
    return len(text) < 40 and "." not in text and text[:1].isupper() and text.istitle()


def _compatible(text: str, schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    kinds = set(kinds if isinstance(kinds, list) else [kinds])
    lowered = text.lower()
    if lowered.startswith(("whether", "boolean")) and "boolean" not in kinds:
        return False
    if lowered.startswith(("list of", "array of")) and "array" not in kinds:
        return False
    items = schema.get("items", {})
    # The seed describes some id lists as {type, id} objects; our fields take plain ids.
    return not ("array" in kinds and items.get("type") == "string" and "'type'" in lowered)


def _score(text: str, name: str, schema: dict[str, Any]) -> float:
    seed = _tokens(text)
    if not seed:
        return 0.0
    spec_text = schema.get("description", "")
    if spec_text and _tokens(spec_text) == seed:
        return 2.0
    # How much of the field's name the sentence names, outside asides like
    # "(alternative to profile_ids)", and how early: "The ID of the list to add profiles to"
    # is about `list_id` more than `profile_ids`.
    main = _words(re.sub(r"\([^)]*\)", " ", text))
    name_words = _tokens(name)
    if len(name_words) > 1:
        name_words.discard("id")  # "The list to add ... to" describes `list_id`
    found = [main.index(word) for word in name_words if word in main]
    score = len(found) / len(name_words) if name_words else 0.0
    if found:
        score -= 0.01 * (sum(found) / len(found))
    rest = seed - name_words
    generated = name in _KEYWORDS or name.startswith(("fields_", "additional_fields_"))
    if spec_text and rest and not generated:
        spec_words = _tokens(spec_text)
        overlap = len(rest & spec_words) / len(rest)
        if not overlap and len(spec_words) >= 6:
            # Same name, nothing else in common with what the spec says: another field's text
            # (the seed's "Id that can be used to identify a profile..." is `anonymous_id`).
            return 0.0
        score += 0.5 * overlap
    lowered = text.lower()
    for field_name, words in _KEYWORDS.items():
        if any(word in lowered for word in words):
            score += 0.6 if name == field_name else -0.2
    if ("sparse fieldset" in lowered or "fields to" in lowered) and name.startswith("fields_"):
        score += 0.4
    return score


def _nested_descriptions(schema: Any, top: bool = True) -> set[str]:
    """Return the descriptions of a field's inner properties (`location.city`, ...)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        if not top and schema.get("description"):
            found.add(one_line(schema["description"]))
        for key in ("properties",):
            for sub in schema.get(key, {}).values():
                found |= _nested_descriptions(sub, top=False)
        if isinstance(schema.get("items"), dict):
            found |= _nested_descriptions(schema["items"], top=False)
        for sub in schema.get("anyOf", []):
            found |= _nested_descriptions(sub, top=top)
    return found


def match(seed_params: Iterable[str], fields: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Return field name -> seed description for the confident matches.

    A seed text that only restates the spec's own description is not returned (the spec's
    wording is kept), nor one that describes a property *inside* a field (`City name`).
    """
    nested: set[str] = set()
    for schema in fields.values():
        nested |= {_tokens_key(text) for text in _nested_descriptions(schema)}
    candidates: list[tuple[float, int, str, str]] = []
    for index, raw in enumerate(seed_params):
        text = re.sub(r'(\w)"s\b', r"\1's", one_line(raw))
        if _is_useless(text) or _tokens_key(text) in nested:
            continue
        for name, schema in fields.items():
            if not _compatible(text, schema):
                continue
            score = _score(text, name, schema)
            if score >= 0.75:
                candidates.append((score, -index, name, text))
    result: dict[str, str] = {}
    used: set[int] = set()
    for score, neg_index, name, text in sorted(candidates, reverse=True):
        if name in result or -neg_index in used:
            continue
        used.add(-neg_index)
        result[name] = "" if score >= 2.0 else text
    return {name: text for name, text in result.items() if text}


def _tokens_key(text: str) -> str:
    return " ".join(sorted(_tokens(text)))
