"""Shapes of the EPCIS REST interface's own answers (capture jobs, problems), named as the EPCIS
2.0 REST binding names them. Events and query answers are the standard's JSON-LD, not
modelled here: they are documented as the standard's objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chinhhang.trace.models import EpcisCapture


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CaptureJob(_Camel):
    """A capture (the binding's capture job). Capture is synchronous and all or nothing, so a
    job that exists has finished and succeeded; a refused document leaves no job."""

    capture_id: str = Field(alias="captureID", description="The job's id.")
    created_at: datetime
    finished_at: datetime
    running: bool = False
    success: bool = True
    capture_error_behaviour: Literal["rollback"] = "rollback"
    errors: list[dict[str, Any]] = Field(default_factory=list)
    event_count: int = Field(description="Events stored by this capture.")

    @classmethod
    def of(cls, job: EpcisCapture) -> CaptureJob:
        return cls(
            capture_id=str(job.id),
            created_at=job.created_at,
            finished_at=job.created_at,
            event_count=job.event_count,
        )


class EventCaptured(_Camel):
    """The answer to capturing one event (POST /epcis/events)."""

    capture_id: str = Field(alias="captureID")
    event_id: str = Field(alias="eventID", description="As sent, or the urn:uuid: assigned.")


class Problem(BaseModel):
    """Every refusal, as RFC 7807 problem details (what the EPCIS REST binding uses)."""

    type: str = Field(description="epcisException:ValidationException, …SecurityException, …")
    title: str = Field(description="What was wrong, for a person to read (translated).")
    status: int
    detail: str | None = Field(
        default=None, description="Every fault of a refused document, in one line."
    )
    errors: list[str] | None = Field(
        default=None, description="Every fault, each naming its field (English)."
    )
