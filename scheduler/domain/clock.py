"""Instants and wall clocks: instants are aware datetimes (UTC where stored); a naive datetime given by a
person is a wall-clock time in the site's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def aware(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """``instant`` in ``zone``; a naive one is a wall-clock time there."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        instant = instant.replace(tzinfo=zone, fold=0)
    return instant.astimezone(zone)


def utc(instant: dt.datetime) -> dt.datetime:
    """``instant`` in UTC."""
    return instant.astimezone(dt.UTC)
