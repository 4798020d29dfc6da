"""Shift changes for coordinators: the swaps, give-aways and claims of open shifts that volunteers made
on their own pages (``/me/{token}/swaps``, ``/me/{token}/open``), their approval or refusal, the audit
trail, and the site's swap policy. An approved change is checked again and published as a new
schedule version (both volunteers' feeds update); see :mod:`scheduler.services.swaps`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DB, Config, Site, Token, check_id, keep_cancelled
from api.errors import problem_responses
from api.schemas.swaps import ChangeOut, Decision, Policy, change_out
from scheduler.services import swaps
from scheduler.store.db import utcnow
from scheduler.store.swaps import State

router = APIRouter(tags=["swaps"])


@router.get("/sites/{site_id}/swaps/policy", summary="The site's swap policy")
def get_policy(site: Site, session: DB) -> Policy:
    return swaps.policy(session, site.id)


@router.put(
    "/sites/{site_id}/swaps/policy",
    summary="Set the site's swap policy",
    description="`approval`: `coordinator` (every accepted swap and every claim waits for approval) or "
    "`auto` (a change the checker finds rule-clean is approved and published at once). `deadline_hours`: "
    "offers, acceptances, claims and approvals close this long before the shift starts.",
    responses=problem_responses(422),
)
def put_policy(body: Policy, site: Site, session: DB) -> Policy:
    return swaps.set_policy(session, site.id, body, utcnow())


@router.get("/sites/{site_id}/swaps", summary="Swaps, give-aways and claims, newest first")
def list_swaps(
    site: Site,
    session: DB,
    state: Annotated[list[State] | None, Query(description="Only these states, e.g. pending")] = None,
) -> list[ChangeOut]:
    views = swaps.listing(session, site.id, utcnow(), states=tuple(state) if state else None)
    return [change_out(v) for v in views]


@router.get("/sites/{site_id}/swaps/{change_id}", summary="One change with its audit trail")
def get_swap(change_id: int, site: Site, session: DB) -> ChangeOut:
    return change_out(swaps.view(session, site.id, check_id(change_id, "shift change"), utcnow()))


@router.post(
    "/sites/{site_id}/swaps/{change_id}/decision",
    summary="Approve or refuse a change",
    description="Approve a pending change: it is checked again against the published schedule and, "
    "clean, published as a new version (the answer's `state` is `approved` and `published_version` set); "
    "a change that is no longer possible is `failed` with the `reason`. On a site of more volunteers x "
    "slots than `ROTA_INLINE_COMPILE_PAIRS` the answer's `state` is `approving`: checked against the "
    "people and slots it touches, it is checked on the whole site and published (or failed with the "
    "reason) by the worker, moments later; webhooks as for an approval. Refuse a pending or open one. "
    "409 when it is not pending (or open, to refuse) or its deadline has passed.",
    responses=problem_responses(404, 409, 422),
)
def decide(
    change_id: int, body: Decision, site: Site, token: Token, session: DB, settings: Config
) -> ChangeOut:
    row = swaps.decide(
        session,
        site.id,
        check_id(change_id, "shift change"),
        body,
        swaps.coordinator_actor(token.name),
        utcnow(),
        keep_cancelled(settings),
        inline_pairs=settings.inline_compile_pairs,
    )
    return change_out(swaps.views(session, site.id, [row])[0])
