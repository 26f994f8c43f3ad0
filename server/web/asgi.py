"""The ASGI entry point uvicorn loads (`server.web.asgi:app`), once per worker process."""

from server.boot import boot
from server.config import load
from server.web.app import create_app

app = create_app(boot(load()))
