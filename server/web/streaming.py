"""Stream a blocking iterator (a database cursor) from one dedicated thread to an async response.

peewee connections belong to a thread, so the whole iteration runs in one thread that
hands chunks over a small bounded queue; the response side awaits them without blocking.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import anyio

from server.db import database

_DONE = object()


def threaded(make_iterator: Callable[[], Iterator[bytes]], depth: int = 8) -> AsyncIterator[bytes]:
    chunks: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for chunk in make_iterator():
                while not stop.is_set():
                    try:
                        chunks.put(chunk, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            chunks.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the response side
            chunks.put(exc)
        finally:
            if not database.is_closed():
                database.close()

    async def consume() -> AsyncIterator[bytes]:
        thread = threading.Thread(target=produce, name="quorum-stream", daemon=True)
        thread.start()
        try:
            while True:
                item = await anyio.to_thread.run_sync(chunks.get)
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    return consume()
