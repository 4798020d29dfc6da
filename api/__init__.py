"""The HTTP service (FastAPI): one routes module per concept; the logic lives in ``scheduler/``."""
