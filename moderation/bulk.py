"""Appending many rows in one round trip: ``COPY ... FROM STDIN``, inside the caller's
transaction. Used where a batch stores what the per-row path would insert one by one: new
comments (ingest/store.py), and verdicts and their audit events (triage/classify.py)."""

from __future__ import annotations

import time

from django.db import connection


def copy_rows(model, rows: list[dict], *, ids: bool = False) -> list[int]:
    """Append ``rows`` (dicts by column name, all with the same keys, JSON already dumped to
    text) to ``model``'s table with one ``COPY ... FROM STDIN``, inside the caller's
    transaction. A column a row leaves out takes the field's default, as an unsaved model
    instance would; one without a default must be named (asserted), ``auto_now_add``
    columns too: COPY runs no ``pre_save``. With ``ids``, the rows' ids are
    drawn from the table's sequence first (one query) and returned in row order; otherwise
    the table assigns them and nothing is returned.

    Measured (bench/ingest.py, a 900-comment page): bulk_create spent ~60% of a batch's CPU
    turning model instances into SQL parameters; COPY streams the same rows in a fraction
    of that. A constraint violation raises Django's IntegrityError as an INSERT would, and
    triggers (the audit trail's append-only one) fire as for any INSERT."""
    if not rows:
        return []
    table = model._meta.db_table
    fields = {f.column: f for f in model._meta.concrete_fields if not f.primary_key}
    given = list(rows[0])
    assert set(given) <= set(fields), (table, sorted(set(given) - set(fields)))
    defaults = {}
    for column, field in fields.items():
        if column not in rows[0]:
            default = field.get_default()  # "" for a text field without one, as Django does
            assert default is not None or field.null, f"{table}.{column} has no default: name it"
            defaults[column] = field.get_db_prep_save(default, connection)
    columns = [*given, *defaults]
    tail = tuple(defaults.values())
    values = [(*(row[c] for c in given), *tail) for row in rows]
    new_ids: list[int] = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if ids:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, len(values)])
            new_ids = [pk for (pk,) in cursor.fetchall()]
            values = [(pk, *row) for pk, row in zip(new_ids, values, strict=True)]
            columns = ["id", *columns]
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        started = time.monotonic()
        with cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
        if connection.queries_logged:  # DEBUG and CaptureQueriesContext see it like any statement
            connection.queries_log.append({"sql": f"{sql} -- {len(values)} rows",
                                           "time": f"{time.monotonic() - started:.3f}"})
    return new_ids
