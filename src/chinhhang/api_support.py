"""What every JSON route under /api/v1 shares: the router, the error body, ids and paging.

Each domain's `api.py` makes its router with `api_router(tag)`. Its routes are `ApiRoute`s,
which insist on exactly one `Requires(action)` dependency and publish that action in the
OpenAPI document as `x-permission`, so the document, the docs page and the authorization
matrix test all read the permission from the one place the route declares it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from chinhhang.accounts.roles import PERMISSIONS
from chinhhang.deps import Requires
from chinhhang.forms import MAX_BIG_ID, MAX_ID

# Ids: the same bounds as the portal's (forms.py says why).
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1 to 200).")]
Before = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="The `next` of the previous page (newest first)."),
]
# For the BIGINT keys of the audit log and the scan events.
BigBefore = Annotated[
    int | None,
    Query(ge=1, le=MAX_BIG_ID, description="The `next` of the previous page (newest first)."),
]
After = Annotated[
    str | None,
    Query(max_length=40, description="The `next` of the previous page (in serial order)."),
]

# Only documents the scheme: `Requires` authenticates, and answers 401 with our error body
# when the token is missing (HTTPBearer's own answer would be a bare 403).
bearer = HTTPBearer(
    scheme_name="ApiToken",
    description="An API token of one organization and role: `Authorization: Bearer chh_…`. "
    "Owners and admins create them in the portal or with POST /api/v1/tokens.",
    auto_error=False,
)


class ErrorDetail(BaseModel):
    code: str = Field(description="The HTTP status, as text.")
    message: str = Field(description="What was wrong, for a person to read.")


class ErrorBody(BaseModel):
    """Every refusal: bad input (400, nothing was changed), no or revoked token (401), not
    allowed (403), not found or not yours (404), a clash with what exists (409)."""

    error: ErrorDetail


def error_response(description: str) -> dict[str, Any]:
    """An OpenAPI `responses` entry: our error body, with what the status means here."""
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_response("Bad input; nothing was changed."),
    401: error_response("No API token, or a revoked one."),
    403: error_response("The token's role or organization may not do this."),
    404: error_response("No such thing, or it belongs to another organization."),
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: error_response("The request clashes with what exists; nothing was changed.")
}


class Input(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from walk(sub)


def permissions_of(dependant: Dependant) -> list[str]:
    """The actions of the `Requires` dependencies of a route."""
    return [d.call.action for d in walk(dependant) if isinstance(d.call, Requires)]


class ApiRoute(APIRoute):
    """A JSON route: exactly one `Requires`, shown in the OpenAPI document as x-permission."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        actions = permissions_of(self.dependant)
        if len(actions) != 1:
            raise TypeError(f"API route {path} needs exactly one Requires(…), has {actions}")
        permission = PERMISSIONS[actions[0]]
        self.openapi_extra = {
            **(self.openapi_extra or {}),
            "x-permission": actions[0],
            "x-permission-description": permission.description,
        }


def api_router(tag: str) -> APIRouter:
    return APIRouter(
        tags=[tag],
        route_class=ApiRoute,
        dependencies=[Depends(bearer)],
        responses=ERRORS,
    )


def public_operation(description: str) -> dict[str, Any]:
    """`openapi_extra` of a shopper's operation, which needs no API token: the document names
    its permission "public" where the others name theirs (ApiRoute)."""
    return {"x-permission": "public", "x-permission-description": description}


class Page(Output):
    next: str | None = Field(
        description="Pass it back as `before` (or `after`) for the next page; "
        "null on the last page."
    )


R = TypeVar("R")


def paged(
    rows: Sequence[R], limit: int, cursor: Callable[[R], object]
) -> tuple[list[R], str | None]:
    """Services are asked for `limit + 1` rows: the extra one says whether a next page exists."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, (str(cursor(items[-1])) if more and items else None)
