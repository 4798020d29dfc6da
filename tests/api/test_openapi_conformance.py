"""Property-based tests of the whole HTTP API from its own OpenAPI document (schemathesis): for every
operation, generated requests (with a coordinator token of a real site) never get a 5xx, and every
answer is documented: its status code, its content type and its body's schema.

The number of examples per operation is bounded (``ROTA_SCHEMATHESIS_EXAMPLES``, default 8) so the suite
stays quick; raise it for a deeper run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from api.app import create_app
from scheduler.store.db import make_engine, upgrade
from tests.api.conftest import make_settings, seed_site

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("ROTA_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# The schema is loaded when the module is collected (schemathesis parametrizes at collection), so the
# app and its database are made here: a fresh SQLite file with one site, removed at exit.
_DIR = tempfile.mkdtemp(prefix="rota-openapi-")
atexit.register(shutil.rmtree, _DIR, True)
_URL = f"sqlite:///{Path(_DIR) / 'rota.db'}"
_engine = make_engine(_URL)
upgrade(_engine)
_engine.dispose()
APP = create_app(make_settings(_URL))
SITE = seed_site(APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case):
    site = SITE
    if "site_id" in (case.path_parameters or {}):
        case.path_parameters["site_id"] = site.id  # reach the handlers, not only the 404 of other sites
    case.call_and_validate(headers=site.headers, checks=CHECKS)
