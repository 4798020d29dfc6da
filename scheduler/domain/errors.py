"""Turning bad input into clear messages that name the field and what was expected."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class InputError(ValueError):
    """Bad input: each problem names the field (a dotted path) and what was expected."""

    def __init__(self, source: str, problems: list[FieldProblem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


class TooLargeError(InputError):
    """The input is well-formed but beyond a size cap (volunteers, posts, days x volunteers...): an HTTP
    413 naming the field, checked before any compile (:mod:`scheduler.domain.limits`)."""


class NotFoundError(LookupError):
    """Something named in the request does not exist (or belongs to another site)."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"{what} not found")


class ConflictError(Exception):
    """The request is well-formed but conflicts with the current state (a concurrent update, a duplicate
    id, a reference that would dangle, a job in the wrong state)."""

    def __init__(self, message: str, problems: list[FieldProblem] | None = None):
        self.message = message
        self.problems = problems or []
        super().__init__(message + "".join(f"; {p}" for p in self.problems))


class TooBusyError(Exception):
    """The site already has its share of the job queue (queued and running jobs, or their seconds of
    search): try again after ``retry_after`` seconds (an HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        self.message = message
        self.retry_after = retry_after
        super().__init__(message)


class FieldProblem:
    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def field_path(loc: tuple[Any, ...]) -> str:
    """('posts', 2, 'shifts', 0, 'start') -> 'posts[2].shifts[0].start'; a part that is already a path
    ('pinned[0].volunteer', from a model validator's message) is appended as it is."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.startswith("["):
            path += part
        else:
            path += ("." if path else "") + str(part)
    return path


_PATH_MESSAGE = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z0-9_]\w*(?:\[\d+\])*)*): (.+)$", re.S)


def split_path(message: str) -> tuple[str, str]:
    """``'pinned[0].volunteer: no volunteer 'x''`` -> ``('pinned[0].volunteer', "no volunteer 'x'")``;
    a message that does not start with a field path comes back whole, with an empty path."""
    match = _PATH_MESSAGE.match(message)
    if match is None:
        return "", message
    return match.group(1), match.group(2)


def problem_from_text(text: str) -> FieldProblem:
    """A problem from a ``'field.path: message'`` string (as model validators and the compiler word
    them); the field is empty when the text names none."""
    return FieldProblem(*split_path(text))


def validation_problems(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[FieldProblem]:
    return error_problems(exc.errors(include_url=False), prefix)


def error_problems(errors: Iterable[Mapping[str, Any]], prefix: tuple[Any, ...] = ()) -> list[FieldProblem]:
    """Problems from pydantic-style error dicts (``loc``, ``msg``, ``type``, ``input``), e.g. the ones
    FastAPI reports for a request."""
    problems = []
    for error in errors:
        # pydantic adds the union member or validator name to the location; drop those for readability
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
        message = error["msg"].removeprefix("Value error, ")
        inner, message = split_path(message)
        if inner:
            loc += (inner,)
        if error["type"] not in ("missing", "extra_forbidden") and "input" in error:
            shown = json.dumps(error["input"], default=str)
            if len(shown) <= 60:
                message += f" (got {shown})"
        problems.append(FieldProblem(field_path(prefix + loc), message))
    return problems


def load_json_file(path: Path) -> Any:
    """Read a JSON file or raise InputError saying where it is broken."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), [FieldProblem("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), [FieldProblem("", f"cannot read the file: {exc}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            str(path),
            [FieldProblem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")],
        ) from None


def parse_model(model: type[M], data: Any, source: str, context: dict[str, Any] | None = None) -> M:
    """``data`` validated (``context``: pydantic's validation context, e.g. the scenario's ``OLD_DATA``)
    or an InputError naming the fields."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(source, validation_problems(exc)) from None


def load_model(model: type[M], path: Path, context: dict[str, Any] | None = None) -> M:
    return parse_model(model, load_json_file(path), str(path), context)
