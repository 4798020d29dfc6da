"""The console under test: the real app on a real database, driven with TestClient (cookies kept)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import SiteHandle

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, html[:2000]
    return match.group(1)


def sign_in(client: TestClient, site: SiteHandle) -> str:
    """Sign the client in with the site's coordinator token; the session's CSRF token."""
    page = client.get("/console/sign-in")
    assert page.status_code == 200
    response = client.post(
        "/console/sign-in", data={"csrf": csrf_of(page.text), "token": site.token, "next": "/console/today"}
    )
    assert response.status_code == 200, response.text
    assert "rota_console" in client.cookies
    return csrf_of(client.get("/console/solve").text)


@pytest.fixture
def console(app):
    """A second client (its own cookies) for the console, beside ``client`` for the API."""
    with TestClient(app) as client:
        yield client
