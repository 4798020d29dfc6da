"""Errors as data: every failure is an RFC 9457 ``application/problem+json`` body.

* Bad input (a malformed body, a wrong type, an unknown field, an out-of-range number, a bad date or
  time zone) is a 4xx whose ``errors`` name each offending field: ``{"field": "shifts[0].start",
  "message": "..."}``.
* Unknown ids (and ids of another site) are 404; a conflicting concurrent update or a change that
  conflicts with the site's state is 409.
* Anything else is a bug: logged with its traceback and answered with a plain 500 problem that shows
  no internals.

:class:`BodyGuard` checks request bodies before FastAPI reads them: a size limit (413) and no NUL
character in any JSON string (PostgreSQL cannot store one; the problem names the field).
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from scheduler.domain.errors import (
    ConflictError,
    FieldProblem,
    InputError,
    NotFoundError,
    TooBusyError,
    TooLargeError,
    error_problems,
    field_path,
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("rota.api")

# A secret in a URL, in every form a log line can show it: any case, "/" and "." percent-encoded
# (%2F, %2E), after a scheme (webcal://, https://) or a proxy's path prefix, with a query string after.
_SLASH = r"(?:/|%2F)"
_END = r"(?=$|[/?#\s\"'&;]|%3F|%23)"
_SECRET_PATHS = re.compile(
    rf"""(?ix)
    (?P<head>{_SLASH}(?:calendar|me|console{_SLASH}(?:login|link)){_SLASH})
    (?!token{_END})                   # /sites/1/calendar/token: the coordinator's route, not a secret
    [^/?#\s"'&;]+?                    # the token (stops before a path, query or fragment)
    (?P<ics>(?:\.|%2E)ics)?{_END}"""
)
_SECRET_QUERY = re.compile(
    r"(?i)(?P<head>(?:[?&;]|%3F|%26)(?:access_|feed_|login_)?token(?:=|%3D))[^&#\s\"';]+"
)


def redact(text: str) -> str:
    """A request path (or a whole log line) fit for a log: calendar feed tokens (``/calendar/<token>.ics``
    in any case and encoding, ``webcal:`` links too), console sign-in links (``/console/link/<token>``)
    volunteers' own pages (``/me/<token>/...``) and ``token=`` query parameters are replaced by
    ``<token>``."""
    text = _SECRET_PATHS.sub(lambda m: f"{m['head']}<token>{m['ics'] or ''}", text)
    return _SECRET_QUERY.sub(lambda m: f"{m['head']}<token>", text)


class FieldError(BaseModel):
    field: str = Field(description="Where, e.g. `volunteers[3].contact.email`; empty for the whole body")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: what every failure answers, as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`urn:rota:problem:<kind>`, or `about:blank`")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Each offending field")


_DESCRIPTIONS = {
    400: "The request is malformed",
    401: "No valid coordinator token",
    403: "This token may not do that (e.g. only an admin token creates sites)",
    404: "Nothing there, or not this token's site",
    405: "Method not allowed",
    409: "Conflict: changed meanwhile (If-Match), or not possible in the current state",
    413: "The body is too large",
    415: "The body is not JSON",
    422: "A field is not valid: `errors` names each one",
    428: "Precondition required: send If-Match with the ETag you read",
    429: "Too many requests: see Retry-After",
    503: "The database is not available: retry later",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these problem statuses (all of them when none is named)."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses or _DESCRIPTIONS
    }


class Unauthorized(Exception):
    def __init__(self, detail: str):
        self.detail = detail


class Forbidden(Exception):
    """A valid token without the role the request needs (403)."""

    def __init__(self, detail: str):
        self.detail = detail


class PreconditionRequired(Exception):
    """A request that must be conditional (``If-Match``) but is not (428)."""

    def __init__(self, detail: str):
        self.detail = detail


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response. ``kind`` becomes the problem ``type`` (``urn:rota:problem:<kind>``);
    without it the type is ``about:blank`` and the title the HTTP status phrase."""
    body: dict[str, Any] = {
        "type": f"urn:rota:problem:{kind}" if kind else "about:blank",
        "title": title or _phrase(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def busy() -> JSONResponse:
    """503 when every database connection of this process stayed busy for the pool's timeout: an
    overload, not a bug (no traceback); the client may retry."""
    return problem(503, "the service is busy: retry", headers={"Retry-After": "1"})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _problems(problems: list[FieldProblem]) -> list[dict[str, str]]:
    return [p.as_dict() for p in problems]


_LOCATIONS = {"body", "query", "path", "header", "cookie"}

#: Tags of discriminated unions in request bodies (e.g. a disruption's ``kind``): pydantic puts the tag
#: in an error's location (``disruptions[0].sick_call.volunteer``); the field is named without it.
_UNION_TAGS: set[str] = set()


def register_union_tags(tags) -> None:
    _UNION_TAGS.update(tags)


def _untagged(error: dict[str, Any]) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    kept = [
        part for i, part in enumerate(loc)
        if not (part in _UNION_TAGS and i > 0 and isinstance(loc[i - 1], int))
    ]
    ctx = error.get("ctx") or {}
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found") and "discriminator" in ctx:
        kept.append(str(ctx["discriminator"]).strip("'"))
    return {**error, "loc": tuple(kept)}


def request_problems(errors: list[dict[str, Any]]) -> tuple[int, list[dict[str, str]]]:
    """FastAPI's validation errors as (status, problems): 400 for a body that is not JSON at all,
    422 otherwise. Fields are named without FastAPI's ``body`` prefix; parameters say where they are."""
    status = 422
    out: list[dict[str, str]] = []
    for error in map(_untagged, errors):
        loc = tuple(error.get("loc", ()))
        where = loc[0] if loc and loc[0] in _LOCATIONS else None
        rest = loc[1:] if where else loc
        if error.get("type") == "json_invalid":
            status = 400
            ctx = error.get("ctx") or {}
            reason = ctx.get("error", "")
            out.append(
                {"field": "", "message": f"the body is not valid JSON{': ' + reason if reason else ''}"}
            )
            continue
        if where == "body" and not rest and error.get("type") == "missing":
            out.append({"field": "", "message": "a JSON body is required"})
            continue
        problem = error_problems([{**error, "loc": rest}])[0]
        item = problem.as_dict()
        if where in ("query", "path", "header"):
            item["in"] = where
        out.append(item)
    return status, out


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        status, errors = request_problems(list(exc.errors()))
        detail = "the request body is not valid JSON" if status == 400 else "the request is not valid"
        return problem(status, detail, kind="invalid-input", title="Invalid input", errors=errors)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return problem(
            422,
            f"the {exc.source} is not valid",
            kind="invalid-input",
            title="Invalid input",
            errors=_problems(exc.problems),
        )

    @app.exception_handler(TooLargeError)
    async def _too_large(request: Request, exc: TooLargeError):
        return problem(
            413,
            f"the {exc.source} is larger than this server plans",
            kind="too-large",
            title="Too large",
            errors=_problems(exc.problems),
        )

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError):
        return problem(404, f"{exc.what} not found", kind="not-found", title="Not found")

    @app.exception_handler(TooBusyError)
    async def _too_busy(request: Request, exc: TooBusyError):
        return problem(
            429,
            exc.message,
            kind="too-many-jobs",
            title="Too many jobs",
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError):
        return problem(409, exc.message, kind="conflict", title="Conflict", errors=_problems(exc.problems))

    def conflict(detail: str):
        return problem(409, detail, kind="conflict", title="Conflict")

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError):
        return conflict("it was changed by someone else meanwhile: read it again and retry")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error on %s %s: %s", request.method, redact(request.url.path), exc.orig)
        return conflict("the change conflicts with a concurrent one: read the resource again and retry")

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        log.info("data error on %s %s: %s", request.method, redact(request.url.path), exc.orig)
        return problem(422, "a value does not fit the database", kind="invalid-input", title="Invalid input")

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError):
        if "locked" in str(exc.orig).lower() or "could not serialize" in str(exc.orig).lower():
            return problem(503, "the database is busy: retry", headers={"Retry-After": "1"})
        log.error("database error on %s %s", request.method, redact(request.url.path), exc_info=exc)
        return problem(503, "the database is unavailable", headers={"Retry-After": "5"})

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout):
        log.warning("no database connection free for %s %s: overloaded", request.method,
                    redact(request.url.path))
        return busy()

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return problem(403, exc.detail, kind="forbidden", title="Forbidden")

    @app.exception_handler(PreconditionRequired)
    async def _precondition(request: Request, exc: PreconditionRequired):
        return problem(428, exc.detail, kind="precondition-required", title="Precondition required")

    @app.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, exc: Unauthorized):
        return problem(
            401,
            exc.detail,
            kind="unauthorized",
            title="Unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="rota"'},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = (
            exc.detail if isinstance(exc.detail, str) and exc.detail != _phrase(exc.status_code) else None
        )
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, redact(request.url.path), exc_info=exc)
        return problem(500, "an internal error occurred; it has been logged")


class BodyGuard:
    """ASGI middleware: refuse bodies over ``max_bytes`` (413) and JSON strings holding a NUL character
    (422, naming the field), then hand the body on unchanged."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._reject(
                scope, receive, send, problem(413, f"the body is larger than {self.max_bytes} bytes")
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(
                    scope, receive, send, problem(413, f"the body is larger than {self.max_bytes} bytes")
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        nul = _nul_field(body) if b"\\u0000" in body.lower() else None
        if nul is not None:
            response = problem(
                422,
                "the request is not valid",
                kind="invalid-input",
                title="Invalid input",
                errors=[{"field": nul, "message": "must not contain a NUL character (\\u0000)"}],
            )
            await self._reject(scope, receive, send, response)
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope, receive, send, response: JSONResponse) -> None:
        await response(scope, receive, send)


def _nul_field(body: bytes) -> str | None:
    """The path of the first JSON string (or key) holding a NUL, if the body parses; else None (FastAPI
    then reports the body as malformed)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[tuple, Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return field_path(loc)
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return field_path(loc)
                stack.append((loc + (key,), item))
        elif isinstance(value, list):
            stack.extend((loc + (i,), item) for i, item in enumerate(value))
    return None
