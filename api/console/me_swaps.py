"""A volunteer's swap and open-shift pages, at their secret link: ``/me/{token}/swaps`` (offer one of my
shifts, see who could take it, accept an offer made to me or to anyone who can, my offers and claims)
and ``/me/{token}/open`` (the uncovered shifts I could work, to claim).

The token is the volunteer's own calendar feed token (:func:`scheduler.services.swaps.me`): any other
token (unknown, revoked, a post's or a site's feed) is a 404 page that reveals nothing. The pages show
only the volunteer's own shifts and, of others, names (no contact, no health, no hours). There is no
sign-in and no cookie: the unguessable URL is the key, and since a forged form must post to that URL,
it is also what stops cross-site requests. The language is the browser's, or ``?lang=`` (the links
in the header). Every change goes through the same service functions as the coordinators' API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console import i18n
from api.console.web import Form, error_page, locale_of, redirect, render, rollback
from api.deps import DB, Config, keep_cancelled
from scheduler.domain.errors import ConflictError, InputError, NotFoundError
from scheduler.domain.schedule import Assignment
from scheduler.services import swaps
from scheduler.store import swaps as swap_store
from scheduler.store.db import utcnow

router = APIRouter(prefix="/me/{token}", include_in_schema=False)

#: The messages a redirect after a change names (``?done=``).
DONE = ("offered", "accepted", "claimed", "withdrawn")


def _locale(request: Request) -> str:
    lang = request.query_params.get("lang")
    return lang if lang in i18n.LOCALES else locale_of(request)


def _page(request: Request, template: str, who: swaps.Me, token: str, status_code: int = 200, **context):
    locale = _locale(request)
    return render(
        request,
        template,
        status_code,
        locale=locale,
        me=who,
        token=token,
        base=f"/me/{token}",
        lang_query=f"?lang={locale}" if request.query_params.get("lang") else "",
        **context,
    )


def _who(request: Request, session, token: str) -> swaps.Me | Response:
    try:
        return swaps.me(session, token)
    except NotFoundError:
        return error_page(request, 404, "not-found")


def _back(token: str, request: Request, where: str = "swaps", **query: str) -> Response:
    lang = request.query_params.get("lang")
    if lang in i18n.LOCALES:
        query["lang"] = lang
    return redirect(f"/me/{token}/{where}" + (f"?{urlencode(query)}" if query else ""))


class _Names:
    """Post names and volunteer names of the published site, for display."""

    def __init__(self, pub: swaps.Published):
        self.posts = {p.id: p.name for p in pub.scenario.posts}
        self.people = {v.id: v.name for v in pub.scenario.volunteers}
        self.slots = pub.compiled.slots
        self.zone = pub.compiled.zone

    def shift(self, post: str, shift: str, date: dt.date) -> dict[str, Any]:
        slot = self.slots.get(f"{post}/{shift}/{date.isoformat()}")
        return {
            "post": post,
            "shift": shift,
            "date": date,
            "post_name": self.posts.get(post, post),
            "start": slot.start if slot else None,
            "end": slot.end if slot else None,
        }

    def of_id(self, sid: str) -> dict[str, Any]:
        post, shift, date = sid.split("/")
        return self.shift(post, shift, dt.date.fromisoformat(date))

    def assignment(self, a: Assignment) -> dict[str, Any]:
        return self.shift(a.post, a.shift, a.date)


def _change(v: swaps.ChangeView, names: _Names) -> dict[str, Any]:
    r = v.row
    return {
        "id": r.id,
        "kind": r.kind,
        "state": r.state,
        "reason": r.reason,
        "shift": names.shift(r.post, r.shift, r.date),
        "back": names.shift(r.back_post, r.back_shift, r.back_date) if r.back_post else None,
        "offerer": v.offerer.name if v.offerer else None,
        "taker": v.taker.name if v.taker else None,
        "offerer_id": r.offerer_id,
        "taker_id": r.taker_id,
        "live": r.state in swap_store.LIVE,
    }


def _overview(request: Request, session, who: swaps.Me, token: str, errors: list[str], status_code=200):
    now = utcnow()
    try:
        pub = swaps.published(session, who.site, [who.volunteer.key])
    except ConflictError:
        return _page(request, "me_swaps.html", who, token, status_code, published=False, errors=errors)
    names = _Names(pub)
    mine = swaps.listing(session, who.site.id, now, volunteer_id=who.volunteer.id)
    offered = {
        (v.row.post, v.row.shift, v.row.date): v.row.id
        for v in mine
        if v.row.state in swap_store.LIVE and v.row.offerer_id == who.volunteer.id
    }
    shifts = [
        {**names.assignment(a), "offer": offered.get((a.post, a.shift, a.date))}
        for a in swaps.my_shifts(pub, who.volunteer.key, now)
    ]
    offers = swaps.views(session, who.site.id, swaps.offers_for(session, who, now))
    return _page(
        request,
        "me_swaps.html",
        who,
        token,
        status_code,
        published=True,
        errors=errors,
        shifts=shifts,
        offers=[_change(v, names) for v in offers],
        mine=[_change(v, names) for v in mine],
        done=request.query_params.get("done") if request.query_params.get("done") in DONE else None,
        policy=swaps.policy(session, who.site.id),
    )


@router.get("/swaps")
def swaps_page(request: Request, token: str, session: DB) -> Response:
    who = _who(request, session, token)
    if isinstance(who, Response):
        return who
    return _overview(request, session, who, token, [])


def _problems(exc: InputError | ConflictError) -> list[str]:
    if isinstance(exc, ConflictError):
        return [exc.message, *(str(p) for p in exc.problems)]
    return [p.message if p.field in ("", "request") else f"{p.field}: {p.message}" for p in exc.problems]


def _key(form: dict[str, str], prefix: str = "") -> swaps.ShiftKey | None:
    try:
        return swaps.ShiftKey(
            post=form.get(prefix + "post", ""),
            shift=form.get(prefix + "shift", ""),
            date=form.get(prefix + "date", ""),
        )
    except ValueError:
        return None


@router.get("/swaps/offer")
def offer_page(request: Request, token: str, session: DB) -> Response:
    """One of my shifts: who could take it (give it to anyone, or to one of them), and the swaps
    possible (their shift for mine), least loaded first, as the checker finds them."""
    who = _who(request, session, token)
    if isinstance(who, Response):
        return who
    key = _key(dict(request.query_params))
    if key is None:
        return error_page(request, 404, "not-found")
    return _offer(request, session, who, token, key, [])


def _offer(
    request: Request, session, who: swaps.Me, token: str, key: swaps.ShiftKey, errors, status_code=200
):
    now = utcnow()
    pub = swaps.published(session, who.site, [who.volunteer.key])
    names = _Names(pub)
    mine = {(a.post, a.shift, a.date) for a in swaps.my_shifts(pub, who.volunteer.key, now)}
    if (key.post, key.shift, key.date) not in mine:
        return error_page(request, 404, "not-found")
    give, trade = swaps.offer_candidates(session, who, key, now)
    return _page(
        request,
        "me_swaps_offer.html",
        who,
        token,
        status_code,
        errors=errors,
        shift=names.shift(key.post, key.shift, key.date),
        give=[{"id": t.volunteer, "name": t.name} for t in give],
        trade=[{"id": t.volunteer, "name": t.name, "back": names.of_id(t.gives)} for t in trade if t.gives],
    )


@router.post("/swaps/offer")
def make_offer(request: Request, token: str, session: DB, form: Form) -> Response:
    who = _who(request, session, token)
    if isinstance(who, Response):
        return who
    key = _key(form)
    if key is None:
        return error_page(request, 404, "not-found")
    back = _key(form, "back_") if form.get("back_post") else None
    kind = "swap" if form.get("kind") == "swap" else "give"
    try:
        offer = swaps.OfferRequest(**key.model_dump(), kind=kind, to=form.get("to") or None, back=back)
        swaps.offer(session, who, offer, utcnow())
    except (InputError, ConflictError) as exc:
        rollback(session)
        return _offer(
            request, session, who, token, key, _problems(exc), 422 if isinstance(exc, InputError) else 409
        )
    except ValueError:
        rollback(session)
        return _offer(
            request,
            session,
            who,
            token,
            key,
            [i18n.translator(_locale(request)).gettext("That offer is not valid.")],
            422,
        )
    return _back(token, request, done="offered")


def _act(request: Request, token: str, session, action, done: str, where: str = "swaps") -> Response:
    who = _who(request, session, token)
    if isinstance(who, Response):
        return who
    try:
        action(who)
    except NotFoundError:
        rollback(session)
        return error_page(request, 404, "not-found")
    except (InputError, ConflictError) as exc:
        rollback(session)
        status = 422 if isinstance(exc, InputError) else 409
        if where == "open":
            return _open(request, session, who, token, _problems(exc), status)
        return _overview(request, session, who, token, _problems(exc), status)
    return _back(token, request, where, done=done)


@router.post("/swaps/{change_id}/accept")
def accept(request: Request, token: str, change_id: int, session: DB, settings: Config) -> Response:
    return _act(
        request,
        token,
        session,
        lambda who: swaps.accept(
            session, who, change_id, utcnow(), keep_cancelled(settings),
            inline_pairs=settings.inline_compile_pairs,
        ),
        "accepted",
    )


@router.post("/swaps/{change_id}/withdraw")
def withdraw(request: Request, token: str, change_id: int, session: DB) -> Response:
    return _act(
        request, token, session, lambda who: swaps.withdraw(session, who, change_id, utcnow()), "withdrawn"
    )


# ---------------------------------------------------------------------------------------- open shifts


def _open(request: Request, session, who: swaps.Me, token: str, errors: list[str], status_code=200):
    now = utcnow()
    try:
        pub = swaps.published(session, who.site, [who.volunteer.key])
    except ConflictError:
        return _page(request, "me_swaps_open.html", who, token, status_code, published=False, errors=errors)
    names = _Names(pub)
    found = swaps.open_shifts(session, who, now)
    claims = [
        v
        for v in swaps.listing(session, who.site.id, now, volunteer_id=who.volunteer.id)
        if v.row.kind == swap_store.Kind.claim
    ]
    pending = {
        (v.row.post, v.row.shift, v.row.date) for v in claims
        if v.row.state in (swap_store.State.pending, swap_store.State.approving)
    }
    return _page(
        request,
        "me_swaps_open.html",
        who,
        token,
        status_code,
        published=True,
        errors=errors,
        shifts=[
            {**names.of_id(o.shift), "missing": o.missing, "claimed": (o.post, o.template, o.date) in pending}
            for o in found
        ],
        claims=[_change(v, names) for v in claims],
        done=request.query_params.get("done") if request.query_params.get("done") in DONE else None,
        policy=swaps.policy(session, who.site.id),
    )


@router.get("/open")
def open_page(request: Request, token: str, session: DB) -> Response:
    who = _who(request, session, token)
    if isinstance(who, Response):
        return who
    return _open(request, session, who, token, [])


@router.post("/open/claim")
def claim(request: Request, token: str, session: DB, settings: Config, form: Form) -> Response:
    key = _key(form)
    if key is None:
        return error_page(request, 404, "not-found")
    return _act(
        request,
        token,
        session,
        lambda who: swaps.claim(
            session, who, key, utcnow(), keep_cancelled(settings), inline_pairs=settings.inline_compile_pairs
        ),
        "claimed",
        "open",
    )
