"""The ASGI entry point uvicorn loads (`server.web.asgi:app`), once per worker process: the
litestar app behind the labeling fast lane (server/web/fast_lane.py).

With `server.embedded_worker` (the default) the first worker to start also runs the queue
consumer in threads (server/jobs.py `elect_consumer`). On SQLite the workers leave WAL
checkpoints to a background thread of one of them (server/wal_checkpoint.py).

Once the app is built, everything alive is moved out of the garbage collector's sight
(`gc.freeze`): the modules, plugins and caches loaded at start live as long as the process,
and every full collection scanned them again. Exporting a million responses ran at 200k
responses/s with them scanned and 330k frozen (in-process, 300k responses)."""

import gc

from server import db, jobs, wal_checkpoint
from server.boot import boot
from server.config import load
from server.web.app import create_app
from server.web.fast_lane import FastLane

config = boot(load())
site = create_app(config)
_checkpointer = wal_checkpoint.start(db.database.obj)
if _checkpointer:
    site.on_shutdown.append(_checkpointer.stop)
if config.server.embedded_worker:
    _consumer: list = []
    site.on_startup.append(lambda: _consumer.extend(filter(None, [jobs.elect_consumer(config)])))
    site.on_shutdown.append(lambda: [c.stop(graceful=True) for c in _consumer])
app = FastLane(site)
gc.freeze()
