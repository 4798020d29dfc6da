"""The coordinator's swaps page (``/console/swaps``): changes waiting for approval (accepted swaps and
give-aways, claims of open shifts) with approve and refuse, open offers, the latest decisions, the audit
trail (who, what, when) and the site's swap policy. The same service functions as
``/sites/{id}/swaps`` (:mod:`api.routes.swaps`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console.web import (
    Checked,
    Coordinator,
    Form,
    FormErrors,
    Signed,
    gettext_of,
    redirect,
    refused,
    render,
)
from api.deps import DB, Config, check_id, keep_cancelled
from scheduler.domain.errors import ConflictError, InputError
from scheduler.services import swaps
from scheduler.store import swaps as swap_store
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

ACTOR = swaps.coordinator_actor("console")


def _page(request: Request, session, who: Coordinator, errors: FormErrors | None = None, status_code=200):
    now = utcnow()
    views = swaps.listing(session, who.site_id, now)
    names = {}
    try:
        pub = swaps.published(session, who.site, [])  # post names and the zone: no volunteer
        names = {p.id: p.name for p in pub.scenario.posts}
        zone = pub.compiled.zone
    except ConflictError:
        zone = ZoneInfo(who.site.timezone)
    by_id = {v.row.id: v for v in views}
    trail = sorted(
        ((e, by_id[e.change_id]) for v in views for e in v.events), key=lambda ev: ev[0].id, reverse=True
    )[:100]
    return render(
        request,
        "swaps.html",
        status_code,
        who=who,
        page="swaps",
        errors=errors or FormErrors(),
        pending=[v for v in views if v.row.state == swap_store.State.pending],
        offers=[v for v in views if v.row.state == swap_store.State.open],
        approving=[v for v in views if v.row.state == swap_store.State.approving],
        decided=[v for v in views if v.row.state not in swap_store.IN_FLIGHT][:50],
        trail=trail,
        post_names=names,
        zone=zone,
        policy=swaps.policy(session, who.site_id),
        done=request.query_params.get("done"),
    )


@router.get("/swaps")
def swaps_page(request: Request, who: Signed, session: DB) -> Response:
    return _page(request, session, who)


@router.post("/swaps/{change_id}/decide")
def decide(
    request: Request, change_id: int, who: Checked, session: DB, settings: Config, form: Form
) -> Response:
    decision = swaps.Decision(
        approve=form.get("approve") == "1", reason=(form.get("reason") or "").strip()[:500] or None
    )
    try:
        row = swaps.decide(
            session,
            who.site_id,
            check_id(change_id, "shift change"),
            decision,
            ACTOR,
            utcnow(),
            keep_cancelled(settings),
            inline_pairs=settings.inline_compile_pairs,
        )
    except (InputError, ConflictError) as exc:
        errors = FormErrors()
        status = refused(session, who, exc, errors, {})
        return _page(request, session, who, errors, status)
    return redirect(f"/console/swaps?done={row.state}")


@router.post("/swaps/policy")
def set_policy(request: Request, who: Checked, session: DB, form: Form) -> Response:
    _ = gettext_of(request)
    errors = FormErrors()
    approval = form.get("approval")
    if approval not in ("coordinator", "auto"):
        errors.add("approval", _("choose one"))
    try:
        hours = int(form.get("deadline_hours", ""))
        if not 0 <= hours <= 168:
            raise ValueError
    except ValueError:
        errors.add("deadline_hours", _("expected a whole number of hours from 0 to 168"))
    if errors:
        return _page(request, session, who, errors, 422)
    swaps.set_policy(session, who.site_id, swaps.Policy(approval=approval, deadline_hours=hours), utcnow())
    return redirect("/console/swaps?done=policy")
