"""Coordinator tokens of a site: list them (never their secrets), make a new one (shown once), revoke one
(it stops working at once). ``rota admin create-token / list-tokens / revoke-token`` do the same from the
command line.

Any coordinator token of the site may list, make and revoke coordinator tokens; only an admin token may
make or revoke an admin token."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import DB, Config, Site, Token, check_id, site_path
from api.errors import Forbidden
from api.schemas.tokens import TokenCreated, TokenOut, TokenRequest, token_out
from scheduler.settings import token_expiry
from scheduler.store import access
from scheduler.store.db import utcnow

router = APIRouter(tags=["tokens"])


@router.get("/sites/{site_id}/tokens", summary="The site's coordinator tokens (without their secrets)")
def list_tokens(site: Site, session: DB) -> list[TokenOut]:
    now = utcnow()
    return [token_out(row, now) for row in access.list_api_tokens(session, site.id)]


@router.post(
    "/sites/{site_id}/tokens",
    status_code=201,
    summary="Make a coordinator token for the site (shown once)",
    description="It expires after `expires_in_days` (default: the server's `ROTA_TOKEN_LIFETIME_DAYS`). "
    "`admin: true` needs an admin token (403 otherwise).",
)
def create_token(
    body: TokenRequest, site: Site, token: Token, session: DB, settings: Config, response: Response
) -> TokenCreated:
    if body.admin and not token.admin:
        raise Forbidden("only an admin token may make an admin token")
    now = utcnow()
    secret = access.create_api_token(
        session,
        site.id,
        body.name,
        now,
        expires_at=token_expiry(settings, now, body.expires_in_days),
        admin=body.admin,
    )
    row = access.token_row(session, secret)
    assert row is not None
    response.headers["Location"] = f"{site_path(site.id)}/tokens/{row.id}"
    return token_out(row, now, TokenCreated, token=secret)


@router.delete(
    "/sites/{site_id}/tokens/{token_id}",
    status_code=204,
    summary="Revoke a coordinator token (it stops working at once)",
    description="Revoking your own token is allowed (a sign-out). An admin token is revoked only by an "
    "admin token (403).",
)
def revoke_token(token_id: int, site: Site, token: Token, session: DB) -> Response:
    check_id(token_id, "token")
    target = next((r for r in access.list_api_tokens(session, site.id) if r.id == token_id), None)
    if target is not None and target.admin and not token.admin:
        raise Forbidden("only an admin token may revoke an admin token")
    access.revoke_api_token(session, site.id, token_id, utcnow())
    return Response(status_code=204)
