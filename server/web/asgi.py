"""The ASGI entry point uvicorn loads (`server.web.asgi:app`), once per worker process.

With `server.embedded_worker` (the default) the first worker to start also runs the queue
consumer in threads (server/jobs.py `elect_consumer`)."""

from server import jobs
from server.boot import boot
from server.config import load
from server.web.app import create_app

config = boot(load())
app = create_app(config)
if config.server.embedded_worker:
    _consumer: list = []
    app.on_startup.append(lambda: _consumer.extend(filter(None, [jobs.elect_consumer(config)])))
    app.on_shutdown.append(lambda: [c.stop(graceful=True) for c in _consumer])
