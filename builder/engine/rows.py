"""The engine's hot-path writes as single SQL statements, built from the models' own fields.

Every step writes its StepRun before the request and completes it after, so these run a few
times per step. `Model.save()` and `QuerySet.update()` compile their SQL anew each time, which
costs more than the database itself (measured: `make bench`). Here the statement text is built
once per set of columns and the values are still adapted by each field
(`get_db_prep_save`: JSON, dates, foreign keys), so the rows are the ones the ORM would write.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connections, models, router


def _connection(model: type[models.Model]) -> Any:
    return connections[router.db_for_write(model)]


@cache
def _insert_sql(model: type[models.Model], vendor: str) -> tuple[str, tuple[models.Field, ...]]:
    connection = _connection(model)
    quote = connection.ops.quote_name
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if not field.primary_key)
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model, quoted
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return sql, fields


def insert(instance: models.Model) -> models.Model:
    """Insert `instance` (defaults already filled by its constructor); set and return its pk."""
    model = type(instance)
    connection = _connection(model)
    sql, fields = _insert_sql(model, connection.vendor)
    params = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            instance.pk = cursor.fetchone()[0]
        else:
            instance.pk = cursor.lastrowid
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def _rows_sql(instances: Sequence[models.Model], connection: Any) -> tuple[str, list[Any]]:
    """Return one INSERT of all `instances` (no RETURNING) and its parameters."""
    model = type(instances[0])
    sql, fields = _insert_sql(model, connection.vendor)
    head, _, values = sql.split(" RETURNING ")[0].partition(" VALUES ")
    params = [
        field.get_db_prep_save(getattr(instance, field.attname), connection)
        for instance in instances
        for field in fields
    ]
    return f"{head} VALUES {', '.join([values] * len(instances))}", params


def insert_many(instances: Sequence[models.Model], *, returning: bool = False) -> None:
    """Insert rows in one statement: a step's HTTP attempts, whose pks nobody reads back, or
    (`returning`) a burst of runs, each given its pk, in order, as `bulk_create` does."""
    if not instances:
        return
    model = type(instances[0])
    connection = _connection(model)
    fields = _insert_sql(model, connection.vendor)[1]
    # As many rows a statement as the database takes parameters (SQLite: 32,766 or fewer).
    size = max(1, connection.ops.bulk_batch_size(list(fields), instances))
    for start in range(0, len(instances), size):
        chunk = instances[start : start + size]
        sql, params = _rows_sql(chunk, connection)
        if returning:
            sql += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                for instance, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                    instance.pk = pk
                    instance._state.adding = False
                    instance._state.db = connection.alias


@cache
def _update_sql(model: type[models.Model], vendor: str, names: tuple[str, ...]) -> str:
    connection = _connection(model)
    quote = connection.ops.quote_name
    meta = model._meta
    sets = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    return f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608


def update(
    instance: models.Model, names: tuple[str, ...], *, inserting: Sequence[models.Model] = ()
) -> None:
    """Write the fields `names` of `instance` to its row, and insert the rows `inserting`.

    The new rows go in first. PostgreSQL does both in one statement (a data-modifying WITH),
    so one round trip; elsewhere they are two statements, and a crash between them leaves the
    new rows beside the unchanged one.
    """
    model = type(instance)
    connection = _connection(model)
    meta = model._meta
    sql = _update_sql(model, connection.vendor, names)
    params = [
        meta.get_field(name).get_db_prep_save(getattr(instance, name), connection) for name in names
    ]
    params.append(instance.pk)
    with connection.cursor() as cursor:
        if inserting:
            rows, row_params = _rows_sql(inserting, connection)
            if connection.vendor == "postgresql":
                sql, params = f"WITH inserted AS ({rows}) {sql}", [*row_params, *params]
            else:
                cursor.execute(rows, row_params)
        cursor.execute(sql, params)
