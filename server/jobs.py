"""The queue (huey): slow judging, lease sweeps; SQLite-backed by default, Redis by config.

`configure(config)` builds the huey instance and registers the tasks on it. `quorum serve`
runs an embedded consumer in threads (`start_embedded`), without touching the web
server's signal handlers; `quorum worker` runs a standalone one.
"""

from __future__ import annotations

import logging

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer

from server.config import Config
from server.core import assignment, judging

log = logging.getLogger("quorum.jobs")
JUDGE_RETRIES = 3
JUDGE_RETRY_DELAY = 5

_state: dict = {}


def make_huey(config: Config) -> Huey:
    queue = config.queue
    if queue.backend == "sqlite":
        config.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(queue.name, filename=str(config.data_dir / "queue.db"), immediate=queue.immediate)
    if queue.backend == "redis":
        return RedisHuey(queue.name, url=queue.redis_url, immediate=queue.immediate)
    if queue.backend == "memory":
        return MemoryHuey(queue.name, immediate=queue.immediate)
    raise ValueError(f"queue.backend must be sqlite, redis or memory, not {queue.backend!r}")


def configure(config: Config) -> Huey:
    huey = make_huey(config)

    @huey.task(retries=JUDGE_RETRIES, retry_delay=JUDGE_RETRY_DELAY, context=True)
    def judge_response(response_id: int, task=None):
        try:
            return judging.judge_slow(response_id)
        except Exception as exc:
            if task is not None and task.retries == 0:
                judging.mark_not_judged(response_id, f"judging failed after {JUDGE_RETRIES} retries: {exc}")
            raise

    @huey.periodic_task(crontab(minute="*"))
    def sweep_leases():
        return assignment.sweep()

    _state.update(huey=huey, judge_response=judge_response, sweep_leases=sweep_leases)
    judging.set_enqueue(lambda response_id: judge_response(response_id))
    return huey


def huey() -> Huey:
    return _state["huey"]


class EmbeddedConsumer(Consumer):
    """A consumer that runs beside the web server: threads only, no signal handlers."""

    def _set_signal_handlers(self):
        pass


def start_embedded(workers: int = 2) -> EmbeddedConsumer:
    consumer = EmbeddedConsumer(huey(), workers=workers, worker_type="thread", periodic=True,
                                check_worker_health=False)
    consumer.start()
    log.info("embedded queue consumer started with %s threads", workers)
    return consumer


def run_worker(workers: int = 2) -> None:
    """The standalone consumer of `quorum worker` (owns the main thread and its signals)."""
    Consumer(huey(), workers=workers, worker_type="thread", periodic=True).run()
