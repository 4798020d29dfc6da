"""The HTTP API's models for posts: request bodies (the scenario file's own models) and responses."""

from __future__ import annotations

from scheduler.domain.scenario import Post, ShiftTemplate
from scheduler.store.posts import PostUpdate

__all__ = [
    "Post",
    "PostUpdate",
    "ShiftTemplate",
]
