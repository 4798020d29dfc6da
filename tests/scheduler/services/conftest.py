"""The API's fixtures (an app on a fresh database, a seeded site, an in-process worker) for the service
tests that need a published schedule."""

from tests.api.conftest import app, client, make_site, settings, site, worker  # noqa: F401
