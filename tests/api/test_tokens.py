"""Coordinator token lifecycle: expiry, revocation (API and CLI), last use, the admin role for creating
and deleting sites, and If-Match required to delete a site.

On the old code each of these failed: ``/sites/{id}/tokens`` did not exist (404), a revoked or expired
token could not exist (tokens lived for ever), any coordinator token created sites (201) and deleted
its site without If-Match (204)."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from scheduler.cli.main import app as cli
from scheduler.store import access
from scheduler.store.db import utcnow
from tests.api.conftest import fixture


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_token_expires_records_its_use_and_can_be_revoked(client, site):
    made = client.post(
        f"{site.url}/tokens", json={"name": "night shift lead", "expires_in_days": 2}, headers=site.headers
    )
    assert made.status_code == 201, made.text
    body = made.json()
    token, token_id = body["token"], body["id"]
    assert body["active"] and not body["admin"] and body["revoked_at"] is None
    assert body["last_used_at"] is None  # made, not used yet
    assert (
        dt.timedelta(days=1)
        < dt.datetime.fromisoformat(body["expires_at"]) - utcnow()
        <= dt.timedelta(days=2)
    )
    assert client.get(site.url, headers=_auth(token)).status_code == 200
    listed = {t["id"]: t for t in client.get(f"{site.url}/tokens", headers=site.headers).json()}
    assert listed[token_id]["last_used_at"] is not None and "token" not in listed[token_id]
    assert all("hash" not in key for t in listed.values() for key in t)
    # revoked: it stops at once, and says no more than an unknown token
    assert client.delete(f"{site.url}/tokens/{token_id}", headers=site.headers).status_code == 204
    refused = client.get(site.url, headers=_auth(token))
    assert refused.status_code == 401 and "revoked or expired" in refused.json()["detail"]
    listed = {t["id"]: t for t in client.get(f"{site.url}/tokens", headers=site.headers).json()}
    assert listed[token_id]["revoked_at"] is not None and not listed[token_id]["active"]
    # another site's token id is not found
    assert client.delete(f"{site.url}/tokens/999999", headers=site.headers).status_code == 404


def test_an_expired_token_opens_nothing(client, app, site):
    with app.state.sessions() as session:
        token = access.create_api_token(
            session,
            site.id,
            "old",
            utcnow() - dt.timedelta(days=10),
            expires_at=utcnow() - dt.timedelta(seconds=1),
        )
        session.commit()
    assert client.get(site.url, headers=_auth(token)).status_code == 401


def test_the_server_default_lifetime_applies(client, site, settings):
    body = client.post(f"{site.url}/tokens", json={"name": "x"}, headers=site.headers).json()
    left = dt.datetime.fromisoformat(body["expires_at"]) - utcnow()
    assert (
        dt.timedelta(days=settings.token_lifetime_days - 1)
        < left
        <= dt.timedelta(days=settings.token_lifetime_days)
    )


def test_only_an_admin_token_creates_sites_and_admin_tokens(client, make_site):
    coordinator, admin = make_site(), make_site(admin=True)
    refused = client.post("/sites", json=fixture(), headers=coordinator.headers)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    created = client.post("/sites", json=fixture(), headers=admin.headers)
    assert created.status_code == 201
    new = _auth(created.json()["coordinator_token"])
    [mine] = client.get(f"/sites/{created.json()['id']}/tokens", headers=new).json()
    assert mine["admin"] and mine["expires_at"] is not None
    assert (
        client.post(
            f"{coordinator.url}/tokens", json={"name": "x", "admin": True}, headers=coordinator.headers
        ).status_code
        == 403
    )
    assert client.post(
        f"{admin.url}/tokens", json={"name": "x", "admin": True}, headers=admin.headers
    ).json()["admin"]


def test_deleting_a_site_needs_an_admin_token_and_if_match(client, make_site, app):
    site = make_site(admin=True)
    tag = client.get(site.url, headers=site.headers).headers["ETag"]
    missing = client.delete(site.url, headers=site.headers)
    assert missing.status_code == 428 and tag in missing.json()["detail"]
    assert client.delete(site.url, headers={**site.headers, "If-Match": '"0.0"'}).status_code == 409
    with app.state.sessions() as session:
        plain = access.create_api_token(session, site.id, "coordinator", utcnow())
        session.commit()
    assert client.delete(site.url, headers={**_auth(plain), "If-Match": tag}).status_code == 403
    assert client.delete(site.url, headers={**site.headers, "If-Match": tag}).status_code == 204
    assert client.get(site.url, headers=site.headers).status_code == 401


def test_tokens_from_the_command_line(settings, app, site):
    env = {"ROTA_DATABASE_URL": settings.database_url, "ROTA_PUBLIC_URL": "https://rota.example"}
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "admin",
            "create-token",
            "--site",
            str(site.id),
            "--admin",
            "--expires-in-days",
            "0",
            "--name",
            "ops",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    with app.state.sessions() as session:
        row = access.api_token(session, token)
        assert row is not None and row.admin and row.expires_at is None
        token_id = row.id
        session.commit()
    listed = runner.invoke(cli, ["admin", "list-tokens", "--site", str(site.id)], env=env)
    assert listed.exit_code == 0 and f"{token_id}\tadmin\tactive\texpires never" in listed.output
    assert token not in listed.output
    revoked = runner.invoke(
        cli, ["admin", "revoke-token", "--site", str(site.id), "--id", str(token_id)], env=env
    )
    assert revoked.exit_code == 0, revoked.output
    with app.state.sessions() as session:
        assert access.api_token(session, token) is None
    assert (
        runner.invoke(
            cli, ["admin", "revoke-token", "--site", str(site.id), "--id", "999"], env=env
        ).exit_code
        == 2
    )
    listed = runner.invoke(cli, ["admin", "list-tokens", "--site", str(site.id)], env=env)
    assert f"{token_id}\tadmin\trevoked" in listed.output
