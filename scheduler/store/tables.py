"""Every table of the schema: importing this module gives :data:`metadata` all of them (Alembic's
autogenerate and the tests' schema checks read it)."""

from scheduler.store import (  # noqa: F401  (imported for their tables)
    access,
    calendars,
    console_sessions,
    health_audit,
    health_records,
    jobs,
    posts,
    reminders,
    residents,
    schedules,
    sites,
    swaps,
    unwell_reports,
    volunteers,
    webhooks,
    worked,
)
from scheduler.store.db import Base

metadata = Base.metadata
