"""The ASGI entry point uvicorn loads (`server.web.asgi:app`), once per worker process.

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

config = boot(load())
app = create_app(config)
_checkpointer = wal_checkpoint.start(db.database.obj)
gc.freeze()
if _checkpointer:
    app.on_shutdown.append(_checkpointer.stop)
if config.server.embedded_worker:
    _consumer: list = []
    app.on_startup.append(lambda: _consumer.extend(filter(None, [jobs.elect_consumer(config)])))
    app.on_shutdown.append(lambda: [c.stop(graceful=True) for c in _consumer])
