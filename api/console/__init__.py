"""The coordinator console: server-rendered pages under ``/console`` (Jinja2, a little plain JavaScript,
English and Chinese through gettext catalogs), on the same service and store functions as the HTTP API.

:func:`install` adds its routes and static files to the application.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import (
    auth,
    jobs,
    me,
    me_swaps,
    pages,
    people_edit,
    posts,
    residents,
    scenario_upload,
    settings,
    spreadsheets,
    swaps,
    worked,
)
from api.console.i18n import HERE
from api.console.web import install_error_pages


def install(app: FastAPI) -> None:
    # people/new before people/{key}
    for module in (
        auth, spreadsheets, people_edit, pages, jobs, posts, residents, scenario_upload, swaps, worked,
        settings, me_swaps, me,
    ):
        app.include_router(module.router)
    install_error_pages(app)
    # a volunteer's own page: the same "not found" page for any link that does not open one
    app.add_exception_handler(me.PageMissing, me.not_found_page)
    app.add_exception_handler(me.Refused, me.refused_page)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
