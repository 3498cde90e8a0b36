"""The generic resource store: create, find, update and delete resources and links of an account.

Every function takes the account explicitly, so one account can never see another's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.klaviyo_sandbox import ids
from integrations.klaviyo_sandbox.api.errors import conflict, invalid, not_found
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxLink, SandboxResource

# Ids made from a body (a catalog item's external id) must fit the column: PostgreSQL refuses a
# longer value (and SQLite would store it); refuse it as Klaviyo refuses bad input, with a 400.
ID_MAX_LENGTH = SandboxResource._meta.get_field("resource_id").max_length


def of_type(account: SandboxAccount, kind: str) -> QuerySet[SandboxResource]:
    """Return the account's resources of one type in creation order."""
    return SandboxResource.objects.filter(account=account, type=kind).order_by("created", "pk")


def get(account: SandboxAccount, kind: str, resource_id: str) -> SandboxResource | None:
    """Return the resource, or None if the account has no such resource."""
    return SandboxResource.objects.filter(
        account=account, type=kind, resource_id=resource_id
    ).first()


def require(
    account: SandboxAccount, kind: str, resource_id: Any, *, pointer: str | None = None
) -> SandboxResource:
    """Return the resource or raise the 404 Klaviyo answers for an unknown id."""
    found = get(account, kind, str(resource_id)) if resource_id not in (None, "") else None
    if found is None:
        raise not_found(kind, str(resource_id), pointer=pointer)
    return found


def many(account: SandboxAccount, kind: str, resource_ids: Iterable[str]) -> list[SandboxResource]:
    """Return the resources with these ids, in the order of `resource_ids` (unknown ids skipped)."""
    wanted = list(dict.fromkeys(resource_ids))
    found = {
        r.resource_id: r
        for r in SandboxResource.objects.filter(account=account, type=kind, resource_id__in=wanted)
    }
    return [found[i] for i in wanted if i in found]


def create(
    account: SandboxAccount,
    kind: str,
    attributes: dict[str, Any],
    *,
    resource_id: str | None = None,
    relationships: dict[str, Any] | None = None,
    internal: dict[str, Any] | None = None,
    created: datetime | None = None,
    id_pointer: str | None = None,
) -> SandboxResource:
    """Store a new resource; raise a 409 if the id is taken.

    Raise a 400 pointing at `id_pointer` (the body member the id comes from) when `resource_id`
    is longer than ID_MAX_LENGTH.
    """
    if resource_id is not None and len(resource_id) > ID_MAX_LENGTH:
        raise invalid(
            f"A {kind} id can be at most {ID_MAX_LENGTH} characters; this one would have "
            f"{len(resource_id)}.",
            pointer=id_pointer,
        )
    moment = created or timezone.now()
    resource = SandboxResource(
        account=account,
        type=kind,
        resource_id=resource_id or ids.new_id(kind),
        attributes=attributes,
        relationships=relationships or {},
        internal=internal or {},
        created=moment,
        updated=moment,
    )
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError as exc:
        raise conflict(
            f"A {kind} with id {resource.resource_id} already exists.", pointer="/data/id"
        ) from exc
    return resource


def save(resource: SandboxResource, *, touch: bool = True) -> SandboxResource:
    """Write a changed resource back, bumping its `updated` time."""
    if touch:
        resource.updated = timezone.now()
    resource.save(update_fields=["attributes", "relationships", "internal", "updated"])
    return resource


def merge_attributes(resource: SandboxResource, changes: dict[str, Any]) -> None:
    """Apply a PATCH's attributes: given members replace stored ones (null clears them)."""
    resource.attributes = {**resource.attributes, **changes}


def delete(resource: SandboxResource) -> None:
    """Delete a resource and every link from or to it."""
    SandboxLink.objects.filter(account_id=resource.account_id).filter(
        Q(src_type=resource.type, src_id=resource.resource_id)
        | Q(dst_type=resource.type, dst_id=resource.resource_id)
    ).delete()
    resource.delete()


# -- many-to-many links ------------------------------------------------------------------------


def link_ids(account: SandboxAccount, src_type: str, src_id: str, rel: str) -> dict[str, datetime]:
    """Return `{dst_id: linked_at}` for a source's relationship, oldest link first."""
    rows = SandboxLink.objects.filter(
        account=account, src_type=src_type, src_id=src_id, rel=rel
    ).order_by("created", "pk")
    return {row.dst_id: row.created for row in rows}


def inverse_link_ids(
    account: SandboxAccount, src_type: str, rel: str, dst_type: str, dst_id: str
) -> dict[str, datetime]:
    """Return `{src_id: linked_at}` of the sources that hold `dst_id` in their `rel`."""
    rows = SandboxLink.objects.filter(
        account=account, src_type=src_type, rel=rel, dst_type=dst_type, dst_id=dst_id
    ).order_by("created", "pk")
    return {row.src_id: row.created for row in rows}


def link_add(
    account: SandboxAccount,
    src_type: str,
    src_ids: Iterable[str],
    rel: str,
    dst_type: str,
    dst_ids: Iterable[str],
    *,
    at: datetime | None = None,
) -> None:
    """Link every source to every destination; existing links are kept (and keep their time)."""
    moment = at or timezone.now()
    rows = [
        SandboxLink(
            account=account,
            src_type=src_type,
            src_id=src,
            rel=rel,
            dst_type=dst_type,
            dst_id=dst,
            created=moment,
        )
        for src in dict.fromkeys(src_ids)
        for dst in dict.fromkeys(dst_ids)
    ]
    SandboxLink.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


def link_remove(
    account: SandboxAccount,
    src_type: str,
    src_ids: Iterable[str],
    rel: str,
    dst_ids: Iterable[str],
) -> None:
    """Remove the links between these sources and destinations (missing ones are ignored)."""
    SandboxLink.objects.filter(
        account=account,
        src_type=src_type,
        src_id__in=list(src_ids),
        rel=rel,
        dst_id__in=list(dst_ids),
    ).delete()


def link_clear(account: SandboxAccount, src_type: str, src_id: str, rel: str) -> None:
    """Remove every link of a source's relationship."""
    SandboxLink.objects.filter(account=account, src_type=src_type, src_id=src_id, rel=rel).delete()


def reverse_one(account: SandboxAccount, kind: str, via: str, target_id: str) -> list[str]:
    """Return ids of `kind` resources whose to-one relationship `via` points at `target_id`."""
    lookup = {f"relationships__{via}": target_id}
    return list(of_type(account, kind).filter(**lookup).values_list("resource_id", flat=True))
