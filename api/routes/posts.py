"""Posts with their shift templates (the scenario's ``Post``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import DB, Config, IfMatch, Site, check_if_match, check_key, etag, keep_cancelled, site_path
from api.schemas.posts import PostUpdate
from scheduler.domain import scenario as sc
from scheduler.domain.limits import SizeLimits
from scheduler.services import publishing
from scheduler.store import posts, sites
from scheduler.store.db import utcnow

router = APIRouter(tags=["posts"])


def site_post(post_id: str, site: Site, session: DB) -> posts.PostRow:
    return posts.get_post(session, site.id, check_key(post_id, f"post {post_id!r}"))


Post = Annotated[posts.PostRow, Depends(site_post)]


def _location(site_id: int, key: str) -> str:
    return f"{site_path(site_id)}/posts/{key}"


@router.get("/sites/{site_id}/posts", summary="The site's posts")
def list_posts(site: Site, session: DB) -> list[sc.Post]:
    return [posts.to_model(row) for row in posts.list_posts(session, site.id)]


@router.post("/sites/{site_id}/posts", status_code=201, summary="Add a post with its shift templates")
def add_post(body: sc.Post, site: Site, session: DB, settings: Config, response: Response) -> sc.Post:
    row = posts.add_post(session, site.id, body)
    sites.validate_site(session, site, post=row.key, limits=SizeLimits.of(settings))
    session.flush()
    response.headers["Location"] = _location(site.id, row.key)
    response.headers["ETag"] = etag(row)
    return posts.to_model(row)


@router.get("/sites/{site_id}/posts/{post_id}", summary="A post")
def get_post(post: Post, response: Response) -> sc.Post:
    response.headers["ETag"] = etag(post)
    return posts.to_model(post)


@router.put(
    "/sites/{site_id}/posts/{post_id}",
    summary="Replace a post",
    description="Shift templates are matched by id. A template that pins, preferences or succession rules "
    "name cannot be removed (409). Published calendar events show the new name, place and instructions.",
)
def put_post(
    body: PostUpdate,
    post: Post,
    site: Site,
    session: DB,
    settings: Config,
    response: Response,
    if_match: IfMatch = None,
) -> sc.Post:
    check_if_match(if_match, post)
    posts.replace_post(session, post, body)
    sites.validate_site(session, site, limits=SizeLimits.of(settings))
    publishing.refresh_calendars(session, site, utcnow(), keep_cancelled(settings), post=post.key)
    session.flush()
    response.headers["ETag"] = etag(post)
    return posts.to_model(post)


@router.delete(
    "/sites/{site_id}/posts/{post_id}",
    status_code=204,
    summary="Delete a post",
    description="Refused (409) while pins or preferences name it, or if it is the site's last post.",
)
def delete_post(post: Post, site: Site, session: DB, if_match: IfMatch = None) -> Response:
    check_if_match(if_match, post)
    posts.delete_post(session, post)
    sites.validate_site(session, site)
    return Response(status_code=204)
