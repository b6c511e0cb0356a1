"""EPCIS 2.0 and CBV 2.0: typed models of traceability events, their vocabularies and
identifiers. Capture and query build on these; this package does no I/O.

`validate_document(data)` is the door: it returns an `EPCISDocument` or raises
`InvalidEpcisDocument` whose `messages` name each faulty field.
"""

from chinhhang.trace.epcis.models import (
    AggregationEvent,
    AssociationEvent,
    EPCISDocument,
    Event,
    ExtensionEvent,
    InvalidEpcisDocument,
    ObjectEvent,
    TransactionEvent,
    TransformationEvent,
    validate_document,
    validate_event,
)

__all__ = [
    "AggregationEvent",
    "AssociationEvent",
    "EPCISDocument",
    "Event",
    "ExtensionEvent",
    "InvalidEpcisDocument",
    "ObjectEvent",
    "TransactionEvent",
    "TransformationEvent",
    "validate_document",
    "validate_event",
]
