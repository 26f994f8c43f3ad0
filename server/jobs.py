"""The queue (huey): slow judging, lease sweeps; SQLite-backed by default, Redis by config.

`configure(config)` builds the huey instance and registers the tasks on it. `quorum serve`
runs an embedded consumer in threads of one web worker (`elect_consumer`), without
touching the web server's signal handlers; `quorum worker` runs a standalone one.
"""

from __future__ import annotations

import fcntl
import logging
import os

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer

from server.config import Config
from server.core import actions, assignment, judging, queue, selfcheck
from server.core import rejudge as rejudging

log = logging.getLogger("quorum.jobs")

_state: dict = {}


def make_huey(config: Config) -> Huey:
    settings = config.queue
    if settings.backend == "sqlite":
        config.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.name, filename=str(config.data_dir / "queue.db"), immediate=settings.immediate)
    if settings.backend == "redis":
        return RedisHuey(settings.name, url=settings.redis_url, immediate=settings.immediate)
    if settings.backend == "memory":
        return MemoryHuey(settings.name, immediate=settings.immediate)
    raise ValueError(f"queue.backend must be sqlite, redis or memory, not {settings.backend!r}")


def configure(config: Config) -> Huey:
    queue.clear()
    huey = make_huey(config)

    attempts, backoff = config.judging.attempts, config.judging.backoff_seconds

    @huey.task()
    def judge_response(response_id: int, attempt: int = 1):
        """Slow judges on one response; transient failures are tried again with exponential backoff."""
        try:
            result = judging.judge_slow(response_id, attempt, final=attempt >= attempts)
        except Exception as exc:  # the database or the queue itself: the same rule applies
            log.exception("judging response %s failed on attempt %s", response_id, attempt)
            if attempt >= attempts:
                judging.mark_not_judged(response_id, f"judging failed after {attempt} attempts: {exc}")
                return "not_judged"
            result = "retry"
        if result == "retry":
            judge_response.schedule((response_id, attempt + 1), delay=backoff * 2 ** (attempt - 1))
        return result

    @huey.task()
    def judge_self_check(check_id: int):
        return selfcheck.judge_slow(check_id)

    @huey.task()
    def rejudge(project_id: int, number: int):
        return rejudging.run(project_id, number)

    @huey.periodic_task(crontab(minute="*"))
    def sweep_leases():
        return assignment.sweep()

    @huey.periodic_task(crontab(minute="*/5"))
    def sweep_rules():
        return actions.sweep()

    _state.update(huey=huey, judge_response=judge_response, sweep_leases=sweep_leases)
    queue.register("judge_response", lambda response_id: judge_response(response_id))
    queue.register("judge_self_check", judge_self_check)
    queue.register("rejudge", rejudge)
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


_elected: list[int] = []   # the open lock file of the process that runs the consumer


def elect_consumer(config: Config) -> EmbeddedConsumer | None:
    """Start the embedded consumer if this is the first web worker to take `<data>/queue-consumer.lock`;
    the lock goes with the process, so a worker uvicorn restarts can take over."""
    fd = os.open(config.data_dir / "queue-consumer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    _elected.append(fd)
    return start_embedded(config.queue.workers)


def run_worker(workers: int = 2) -> None:
    """The standalone consumer of `quorum worker` (owns the main thread and its signals)."""
    Consumer(huey(), workers=workers, worker_type="thread", periodic=True).run()
