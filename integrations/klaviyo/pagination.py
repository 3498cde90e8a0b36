"""Follow Klaviyo's cursor pagination: `links.next` until there is none.

Klaviyo lists answer at most `page[size]` (up to 100) items and put the next page's absolute URL,
which already carries `page[cursor]` and the original filters, in `links.next`:
https://developers.klaviyo.com/en/reference/api_overview#pagination
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import KlaviyoClient, KlaviyoResponse

#: Klaviyo's largest `page[size]`.
MAX_PAGE_SIZE = 100


def next_link(data: Any) -> str | None:
    """Return the `links.next` URL of a decoded answer, or None on the last page."""
    if not isinstance(data, dict):
        return None
    links = data.get("links")
    if not isinstance(links, dict):
        return None
    link = links.get("next")
    return link if isinstance(link, str) and link else None


def iter_pages(
    client: KlaviyoClient,
    method: str,
    path: str,
    *,
    query: dict[str, Any] | None = None,
    max_pages: int | None = None,
    **send_kwargs: Any,
) -> Iterator[KlaviyoResponse]:
    """Yield each page's response, starting with `method path?query`, then each `links.next`.

    The next URL is sent as is (no query added: it already holds the cursor and filters) through
    the same client, so it keeps the auth, revision, retries and rate limits. Stop after
    `max_pages` pages, or when a next link repeats the previous one (a server bug, not a loop).
    """
    response = client.send(method, path, query=query, **send_kwargs)
    yield response
    pages = 1
    previous: str | None = None
    while (link := next_link(response.data)) and link != previous:
        if max_pages is not None and pages >= max_pages:
            return
        previous = link
        response = client.send(method, link, **send_kwargs)
        pages += 1
        yield response


def fetch_all(
    client: KlaviyoClient,
    method: str,
    path: str,
    *,
    max_items: int | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Return the concatenated `data` of every page, stopping once `max_items` are collected.

    No page beyond the one that reaches the cap is requested; the result is cut to the cap.
    """
    items: list[Any] = []
    if max_items is not None and max_items <= 0:
        return items
    for page in iter_pages(client, method, path, **kwargs):
        data = page.data.get("data") if isinstance(page.data, dict) else None
        if isinstance(data, list):
            items.extend(data)
        elif data is not None:
            items.append(data)
        if max_items is not None and len(items) >= max_items:
            return items[:max_items]
    return items
