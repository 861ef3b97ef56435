"""A row landed from its JSON text is the record the row decoded would give."""

from __future__ import annotations

import json

import msgspec

from connectors.raw_store import EncodedRecord
from connectors.smartsheet.client import SheetRow, read_rows
from connectors.smartsheet.streams import SheetLayout

BODY = {
    "name": "Plan: Apollo",
    "columns": [
        {"id": 11, "title": "Task Name", "primary": True},
        {"id": 12, "title": "Estimate Hours"},
        {"id": 13, "title": "Done"},
        {"id": 14, "title": "Notes"},
        {"id": 15, "title": "Notes"},
    ],
}
FIELDS = {"task_name": "Task Name", "estimate_hours": "Estimate Hours", "done": "Done"}


def layout() -> SheetLayout:
    return SheetLayout.from_body(BODY, FIELDS, sheet_id=4242, context="test")


def test_a_row_from_its_text_lands_as_the_decoded_row_would():
    rows = [
        {
            "id": 1,
            "rowNumber": 1,
            "modifiedAt": "2026-11-30T10:00:00Z",
            "cells": [
                {"columnId": 11, "value": 'Design "tab"\t and \\ slash', "displayValue": "Design"},
                {"columnId": 12, "value": 0},
                {"columnId": 13, "value": False},
                {"columnId": 14, "value": "first"},
                {"columnId": 15, "value": {"nested": [1, 2.5, None]}},
                {"columnId": 99, "value": "a column the sheet does not show"},
            ],
        },
        {"id": "2", "modifiedAt": None, "cells": [{"columnId": 12}]},
        {"id": 3},
    ]
    text = b"[" + b",".join(msgspec.json.encode(row) for row in rows) + b"]"
    read = read_rows(msgspec.json.decode(text, type=list[msgspec.Raw]))
    assert all(isinstance(row, SheetRow) for row in read)

    for row, sheet_row in zip(rows, read, strict=True):
        spliced = layout().record(sheet_row)
        assert isinstance(spliced, EncodedRecord)
        assert (spliced.record_id, spliced.cursor) == (row["id"], row.get("modifiedAt"))
        assert json.loads(spliced.payload) == layout().record(row)
        assert layout().contract_fields(sheet_row) == layout().contract_fields(row)

    first = json.loads(layout().record(read[0]).payload)
    assert first["cells_by_title"] == {
        "Task Name": 'Design "tab"\t and \\ slash',
        "Estimate Hours": 0,
        "Done": False,
        "Notes": {"nested": [1, 2.5, None]},
    }
    assert first["contract_fields"] == {
        "task_name": first["cells_by_title"]["Task Name"],
        "estimate_hours": 0,
        "done": False,
    }
    assert json.loads(layout().record(read[2]).payload)["cells_by_title"] == dict.fromkeys(
        ["Task Name", "Estimate Hours", "Done", "Notes"]
    )


def test_rows_of_another_shape_come_back_decoded_for_the_loader_to_reject():
    raws = msgspec.json.decode(
        b'["not an object", {"rowNumber": 9}, {"id": null}, {"id": 5, "cells": [7]}, {"id": 6}]',
        type=list[msgspec.Raw],
    )
    read = read_rows(raws)
    assert read[:4] == ["not an object", {"rowNumber": 9}, {"id": None}, {"id": 5, "cells": [7]}]
    assert isinstance(read[4], SheetRow) and read[4].head.id == 6
    assert [layout().record(row) for row in read[:3]] == read[:3]
    assert layout().record(read[3])["cells_by_title"] == dict.fromkeys(["Task Name", "Estimate Hours", "Done", "Notes"])
