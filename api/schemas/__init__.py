"""Every model of the HTTP API, by resource: what a route takes and what it answers.

Responses and API-only bodies are defined here. A request body that is also a service's input (a post or a
volunteer as in the scenario file, a solve or re-solve request, a webhook registration) is defined beside
that service, which validates it before any work, and is named again in the resource's module here, so
routes import every model from ``api.schemas``."""
