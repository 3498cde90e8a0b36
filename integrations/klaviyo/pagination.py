"""Follow Klaviyo's cursor pagination: `links.next` until there is none, or enough items.

Klaviyo lists answer at most `page[size]` (up to 100) items and put the next page's absolute URL,
which already carries `page[cursor]` and the original filters, in `links.next`:
https://developers.klaviyo.com/en/reference/api_overview#pagination

This is the one place pages are followed; `run_action` (`fetch_all`) and everything else use it.
It takes a `get_page(url) -> decoded JSON` callable rather than the client, so it stays a pure
function of the answers (the caller's callable keeps auth, retries, rate limits and attempts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Klaviyo's largest `page[size]`.
MAX_PAGE_SIZE = 100

#: Fetch one page by its absolute `links.next` URL and return the decoded answer.
GetPage = Callable[[str], Any]


def next_link(data: Any) -> str | None:
    """Return the `links.next` URL of a decoded answer, or None on the last page."""
    if not isinstance(data, dict):
        return None
    links = data.get("links")
    if not isinstance(links, dict):
        return None
    link = links.get("next")
    return link if isinstance(link, str) and link else None


def follow_pages(get_page: GetPage, first: dict[str, Any], *, limit: int) -> dict[str, Any]:
    """Return the first page's document with the `data` (and `included`) of the pages after it.

    Pages are fetched until `limit` items are collected or there is no next link (a next link
    that repeats the previous one, a server bug, also ends it). When the cap cuts a page short,
    `links.next` points at that page again (its own URL) and `meta.truncated` is true, so a
    caller who continues from `links.next` never skips the items beyond the cap.
    """
    document = dict(first)
    items = list(document.get("data") or [])
    included = list(document.get("included") or [])
    page_link = (document.get("links") or {}).get("self")
    next_url = next_link(document)
    while next_url and next_url != page_link and len(items) < limit:
        page = get_page(next_url) or {}
        page_link = next_url
        items.extend(page.get("data") or [])
        included.extend(page.get("included") or [])
        next_url = next_link(page)
    if next_url == page_link:
        next_url = None
    truncated = len(items) > limit
    document["data"] = items[:limit]
    if included:
        document["included"] = included
    document["links"] = {
        **(document.get("links") or {}),
        "next": page_link if truncated else next_url,
    }
    document["meta"] = {**(document.get("meta") or {}), "truncated": truncated}
    return document
