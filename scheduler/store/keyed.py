"""What posts and volunteers share: rows of one site named by a key (their id in the scenario file) that is
unique in the site, with a name and a version for optimistic concurrency (the ETag)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from scheduler.domain.errors import NotFoundError


class SiteKeyed:
    """Columns and mapper settings of a site's keyed resource (a mixin for a declarative table)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (UniqueConstraint("site_id", "key"),)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}


Row = TypeVar("Row", bound=SiteKeyed)


def rows_of(session: Session, cls: type[Row], site_id: int) -> list[Row]:
    """The site's rows, in the order they were added."""
    return list(session.scalars(select(cls).where(cls.site_id == site_id).order_by(cls.id)))


def row_of(session: Session, cls: type[Row], site_id: int, key: str, what: str) -> Row:
    """The site's row with ``key`` (NotFoundError naming ``what`` and the key when there is none)."""
    row = session.scalar(select(cls).where(cls.site_id == site_id, cls.key == key))
    if row is None:
        raise NotFoundError(f"{what} {key!r}")
    return row


def key_taken(session: Session, cls: type[Row], site_id: int, key: str) -> bool:
    return session.scalar(select(cls.id).where(cls.site_id == site_id, cls.key == key)) is not None
