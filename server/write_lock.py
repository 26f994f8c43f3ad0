"""SQLite's one writer, queued fairly: the lock every write transaction takes before BEGIN IMMEDIATE.

Threads of a process queue on a mutex, processes on an flock of `<database>-writer.lock`.
The mutex is not first come, first served: a thread that takes it again without letting go
of the interpreter in between can keep a waiting thread out (every holder here lets go
between holds: an event loop waits on its sockets, a request thread on its client).
SQLite's own busy handler sleeps and retries (1, 2, 5 … 100 ms), serving nobody in order
and waking late, which made the slowest claims wait far longer than the average; a
blocked flock wakes as soon as it is free. The lock is re-entrant for its holder.

Two kinds of holder: an event loop running a hot-path handler's write transaction
(server/web/hot_path.py, `short_holds`) or the WAL checkpointer finishing a round
(server/wal_checkpoint.py), which hold it for a fraction of a millisecond to a few, and
everything else (threads, the queue, the CLI), which may hold it for seconds (a
million-row import). The second kind also
holds `<database>-writers.lock`, so an event loop can tell, without waiting, whether
waiting on the spot is safe or must be left to a thread.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager


class WriterLock:
    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.guard = threading.Lock()   # guards owner and depth
        self.owner: int | None = None   # the holding thread
        self.depth = 0
        self.held: tuple[int, ...] = ()  # file descriptors flocked by the outermost hold
        self.files: dict[str, int] = {}
        self.path: str | None = None
        self.pid = 0
        self.local = threading.local()  # .short: this thread's holds are an event loop's short ones

    def _file(self, path: str, kind: str) -> int | None:
        """This process's descriptor for a lock file: "writer" (the lock), "writers" (held by
        holders that may be slow) and "probe" (a second descriptor of "writers" to test it with)."""
        if path == ":memory:" or path.startswith("file:"):
            return None
        if self.path != path or self.pid != os.getpid():   # a forked child opens its own: flocks
            for fd in self.files.values():                 # held through one open file are shared
                os.close(fd)
            self.files, self.path, self.pid = {}, path, os.getpid()
        if kind not in self.files:
            name = "writer" if kind == "writer" else "writers"
            self.files[kind] = os.open(f"{path}-{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self.files[kind]

    @contextmanager
    def short_holds(self):
        """Within this block, this thread's holds are an event loop's: short, so other loops
        may wait for them on the spot (see `acquire`'s `loop`)."""
        self.local.short = True
        try:
            yield
        finally:
            self.local.short = False

    def acquire(self, path: str, blocking: bool = True, loop: bool | None = None) -> bool:
        """Hold the database's write lock; without `blocking`, only if it is free at once.
        `loop`: the holder is an event loop that will let go within a millisecond (by default,
        whether the thread is inside `short_holds`)."""
        if loop is None:
            loop = getattr(self.local, "short", False)
        me = threading.get_ident()
        with self.guard:
            if self.owner == me:
                self.depth += 1
                return True
        if not self.mutex.acquire(blocking):
            return False
        held = []
        try:
            for kind in ("writer",) if loop else ("writers", "writer"):
                fd = self._file(path, kind)
                if fd is None:
                    continue
                fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(fd)
        except BlockingIOError:
            self._unlock(held)
            self.mutex.release()
            return False
        with self.guard:
            self.owner, self.depth, self.held = me, 1, tuple(held)
        return True

    def release(self) -> None:
        with self.guard:
            self.depth -= 1
            if self.depth:
                return
            held, self.held, self.owner = self.held, (), None
        self._unlock(held)
        self.mutex.release()

    @staticmethod
    def _unlock(held) -> None:
        for fd in reversed(held):
            fcntl.flock(fd, fcntl.LOCK_UN)

    def slow_holder(self, path: str) -> bool:
        """Whether a holder that may be slow (not an event loop) holds or waits on the lock."""
        fd = self._file(path, "probe")
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False

    def wait_until_free(self, path: str) -> None:
        """Block (in a worker thread) until the lock can be had, then let it go at once."""
        self.acquire(path, loop=True)
        self.release()
