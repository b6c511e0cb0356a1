"""Stamp rules: runs, selections, custody. Imported from here by the rest of the code."""

from chinhhang.stamps.services.events import events_of_stamp, record_event
from chinhhang.stamps.services.listing import StampRow, list_stamps, parse_cursor, stamp_counts
from chinhhang.stamps.services.runs import (
    MAX_RUN,
    RunSummary,
    activate,
    check_binding,
    codes_of_run,
    count_by_status,
    create_run,
    fill_run,
    get_run,
    in_run,
    list_runs,
    run_for,
    run_with_counts,
    unfinished_runs,
    void,
)
from chinhhang.stamps.services.selection import Selection, compress
from chinhhang.stamps.services.shipments import (
    get_shipment,
    list_shipments,
    organization_names,
    receive,
    ship,
    shipment_ranges,
    shipment_with_ranges,
)

__all__ = [
    "MAX_RUN",
    "RunSummary",
    "Selection",
    "StampRow",
    "activate",
    "check_binding",
    "codes_of_run",
    "compress",
    "count_by_status",
    "create_run",
    "events_of_stamp",
    "fill_run",
    "get_run",
    "get_shipment",
    "in_run",
    "list_runs",
    "list_shipments",
    "list_stamps",
    "organization_names",
    "parse_cursor",
    "receive",
    "record_event",
    "run_for",
    "run_with_counts",
    "ship",
    "shipment_ranges",
    "shipment_with_ranges",
    "stamp_counts",
    "unfinished_runs",
    "void",
]
