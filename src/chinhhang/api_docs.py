"""The API's documentation: the OpenAPI document's finishing touches and `GET /api/docs`.

The docs page is rendered here from `app.openapi()`, not by Swagger UI or ReDoc: those load
scripts from a CDN, and our pages use no external resources (SPEC section 9). It lists every
operation with the permission it needs, its parameters and its request and answer shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from chinhhang.templating import pages_of

DESCRIPTION = (
    "The JSON API for businesses. Authenticate every request with an API token of one "
    "organization and role: `Authorization: Bearer chh_…` (owners and admins create tokens in "
    "the portal). Each operation states the permission it needs (`x-permission`; see "
    'docs/roles.md). Every refusal has the body `{"error": {"code": "400", "message": '
    '"…"}}`: 400 for bad input (nothing was changed), 401 without a valid token, 403 when the '
    "role or kind of organization may not, 404 for what does not exist or is another "
    "organization's, 409 for a clash. Lists take `limit` (1 to 200, default 50) and answer "
    '`{"items": […], "next": …}`; pass `next` back as `before` (or `after` for stamps) until '
    "it is null. Stamps are shown by serial only, never by code: only an export (owners and "
    "admins, counted and audited) gives codes."
)
TAGS = [
    {"name": "accounts", "description": "The token's organization, members, tokens, audit log."},
    {"name": "catalog", "description": "Products and their batches (lots)."},
    {"name": "stamps", "description": "Stamp runs, activation, voiding, stamps and shipments."},
    {"name": "scans", "description": "Scans of the organization's stamps; the dashboard."},
    {
        "name": "printing",
        "description": "Exports of a run's codes for printing (audited); static QR codes.",
    },
]
METHODS = ("get", "post", "put", "patch", "delete")


def install(app: FastAPI) -> None:
    """Finish the OpenAPI document and serve the docs page at /api/docs."""
    app.description = DESCRIPTION
    app.openapi_tags = TAGS
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _without_422(build())
        return app.openapi_schema  # type: ignore[return-value]  # set by build()

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_api_route("/api/docs", docs_page, methods=["GET", "HEAD"], include_in_schema=False)


def _without_422(document: dict[str, Any]) -> None:
    """Bad input is a 400 with our error body here (web.py), never FastAPI's 422: the document
    must say so, and the routers already describe the 400."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    permission: str
    permission_description: str
    parameters: list[dict[str, str]]
    request: str | None
    responses: list[tuple[str, str, str]]


@dataclass
class Section:
    name: str
    description: str
    operations: list[Operation] = field(default_factory=list)


def docs_page(request: Request) -> Response:
    document = request.app.openapi()
    context = {
        "description": DESCRIPTION,
        "sections": sections(document),
        "schemas": schemas(document),
        "openapi_url": request.app.openapi_url,
    }
    return pages_of(request).render(request, "api/docs.html", context)


def sections(document: dict[str, Any]) -> list[Section]:
    by_tag = {tag["name"]: Section(tag["name"], tag["description"]) for tag in TAGS}
    for path, operations in document.get("paths", {}).items():
        for method in METHODS:
            if (operation := operations.get(method)) is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            section = by_tag.setdefault(tag, Section(tag, ""))
            section.operations.append(_operation(method, path, operation))
    return [s for s in by_tag.values() if s.operations]


def _operation(method: str, path: str, operation: dict[str, Any]) -> Operation:
    body = operation.get("requestBody", {}).get("content", {})
    request = next((type_text(c.get("schema", {})) for c in body.values()), None)
    return Operation(
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        permission=operation.get("x-permission", ""),
        permission_description=operation.get("x-permission-description", ""),
        parameters=[
            {
                "name": p["name"],
                "in": p["in"],
                "required": "✓" if p.get("required") else "",
                "type": type_text(p.get("schema", {})),
                "description": p.get("description") or p.get("schema", {}).get("description", ""),
            }
            for p in operation.get("parameters", [])
        ],
        request=request,
        responses=[
            (
                status,
                answer.get("description", ""),
                next(
                    (type_text(c.get("schema", {})) for c in answer.get("content", {}).values()),
                    "",
                ),
            )
            for status, answer in operation.get("responses", {}).items()
        ],
    )


def schemas(document: dict[str, Any]) -> list[tuple[str, str, list[dict[str, str]]]]:
    """(name, description, fields) of every named shape, by name."""
    found = document.get("components", {}).get("schemas", {})
    result = []
    for name in sorted(found):
        schema = found[name]
        required = set(schema.get("required", []))
        fields = [
            {
                "name": field_name,
                "type": type_text(spec),
                "required": "✓" if field_name in required else "",
                "description": spec.get("description", ""),
            }
            for field_name, spec in schema.get("properties", {}).items()
        ]
        result.append((name, schema.get("description", ""), fields))
    return result


def type_text(schema: dict[str, Any]) -> str:
    """A JSON schema as a short phrase: `ProductPublic`, `list of StampPublic`, `integer ≥ 1`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_text(part) for part in schema["anyOf"])
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if values is not None:
        return " | ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values)
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_text(schema.get('items', {}))}"
    text = str(schema.get("format") or kind)
    bounds = [
        f"{symbol} {schema[key]}"
        for key, symbol in (("minimum", "≥"), ("maximum", "≤"))
        if key in schema and abs(schema[key]) < 10**12
    ] + [
        f"{symbol} {schema[key]} chars"
        for key, symbol in (("minLength", "≥"), ("maxLength", "≤"))
        if key in schema
    ]
    return f"{text} ({', '.join(bounds)})" if bounds else text
