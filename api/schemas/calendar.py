"""The HTTP API's models for calendar: request bodies and responses."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response  # noqa: F401
from pydantic import BaseModel, Field

__all__ = [
    "FeedLink",
]


class FeedLink(BaseModel):
    url: str = Field(description="Subscribe to this URL in a calendar app; it is shown only once")
    webcal: str = Field(description="The same URL with the webcal: scheme, which opens calendar apps")
