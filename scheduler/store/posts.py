"""Posts and their shift templates, stored as rows (one per post, one per template).

The resource a coordinator edits is the scenario's own :class:`~scheduler.domain.scenario.Post`; a post's
id (``key`` here) is fixed once created, its templates are matched by id on update so their rows stay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, FieldProblem, InputError
from scheduler.store.db import Base
from scheduler.store.keyed import SiteKeyed, key_taken, row_of, rows_of


class ShiftTemplateRow(Base):
    __tablename__ = "shift_templates"
    __table_args__ = (UniqueConstraint("post_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    start: Mapped[dt.time] = mapped_column(Time())
    end: Mapped[dt.time] = mapped_column(Time())
    weekdays: Mapped[list] = mapped_column(JSON)
    dates: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    required: Mapped[int]
    skills: Mapped[dict] = mapped_column(JSON)
    intensity: Mapped[str | None] = mapped_column(String(16))
    pairs: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class PostRow(SiteKeyed, Base):
    __tablename__ = "posts"

    kind: Mapped[str] = mapped_column(String(40))
    intensity: Mapped[str] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(300))
    instructions: Mapped[str | None] = mapped_column(Text)

    templates: Mapped[list[ShiftTemplateRow]] = relationship(
        order_by=ShiftTemplateRow.position,
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )



class PostUpdate(sc.Post):
    """A post as in the scenario file; ``id``, if given, must be the one in the path."""

    id: sc.Id | None = None  # type: ignore[assignment]


def to_model(row: PostRow) -> sc.Post:
    return sc.Post.model_validate(
        {
            "id": row.key,
            "name": row.name,
            "kind": row.kind,
            "intensity": row.intensity,
            "location": row.location,
            "instructions": row.instructions,
            "shifts": [_template_model(t) for t in row.templates],
        }
    )


def _template_model(row: ShiftTemplateRow) -> dict[str, Any]:
    return {
        "id": row.key,
        "start": row.start,
        "end": row.end,
        "weekdays": row.weekdays,
        "dates": row.dates,
        "required": row.required,
        "skills": row.skills,
        "intensity": row.intensity,
        "pairs": row.pairs,
    }


def _template_fields(template: sc.ShiftTemplate, position: int) -> dict[str, Any]:
    data = template.model_dump(mode="json")
    return {
        "position": position,
        "start": template.start,
        "end": template.end,
        "weekdays": data["weekdays"],
        "dates": data["dates"],
        "required": template.required,
        "skills": data["skills"],
        "intensity": data["intensity"],
        "pairs": template.pairs,
    }


def _post_fields(post: sc.Post) -> dict[str, Any]:
    return {
        "name": post.name,
        "kind": post.kind,
        "intensity": post.intensity.value,
        "location": post.location,
        "instructions": post.instructions,
    }


def list_posts(session: Session, site_id: int) -> list[PostRow]:
    return rows_of(session, PostRow, site_id)


def get_post(session: Session, site_id: int, key: str) -> PostRow:
    return row_of(session, PostRow, site_id, key, "post")


def add_post(session: Session, site_id: int, post: sc.Post) -> PostRow:
    if key_taken(session, PostRow, site_id, post.id):
        raise ConflictError(f"post {post.id!r} already exists", [FieldProblem("id", "already taken")])
    row = PostRow(site_id=site_id, key=post.id, version=1, **_post_fields(post))
    row.templates = [ShiftTemplateRow(key=t.id, **_template_fields(t, i)) for i, t in enumerate(post.shifts)]
    session.add(row)
    return row


def replace_post(session: Session, row: PostRow, update: PostUpdate) -> PostRow:
    """Replace everything about the post but its id; templates keep their rows where their id stays."""
    if update.id is not None and update.id != row.key:
        raise InputError("post", [FieldProblem("id", f"is {update.id!r} but the path names {row.key!r}")])
    for name, value in _post_fields(update).items():
        setattr(row, name, value)
    old = {t.key: t for t in row.templates}
    templates = []
    for i, template in enumerate(update.shifts):
        fields = _template_fields(template, i)
        existing = old.get(template.id)
        if existing is None:
            templates.append(ShiftTemplateRow(key=template.id, **fields))
            continue
        for name, value in fields.items():
            setattr(existing, name, value)
        templates.append(existing)
    row.templates = templates
    row.version += 1
    session.flush()
    return row


def delete_post(session: Session, row: PostRow) -> None:
    session.delete(row)
    session.flush()
