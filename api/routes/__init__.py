"""The HTTP API's routes, one module per resource; :data:`ROUTERS` lists them in the order the app mounts
them (the order the OpenAPI document shows)."""

from api.routes import (
    calendar,
    health_records,
    posts,
    reminders,
    replans,
    residents,
    schedules,
    sites,
    swaps,
    tokens,
    volunteers,
    webhooks,
    worked,
)

ROUTERS = tuple(
    module.router
    for module in (
        sites, tokens, posts, volunteers, health_records, residents, schedules, replans, swaps, webhooks,
        reminders, worked, calendar,
    )
)
