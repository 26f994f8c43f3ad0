"""The server's process tree measured from /proc: memory (VmRSS, VmHWM) and CPU per phase, and
how busy the whole machine was meanwhile. Nothing beyond the standard library.

* `peak_rss_mb`: the highest sum of VmRSS over the tree, sampled every 20 ms;
* `hwm_sum_mb`: the sum of each process's VmHWM since the phase began (reset by writing 5 to
  /proc/<pid>/clear_refs), an upper bound that no short spike escapes;
* `cpu_s`: user + system CPU seconds the tree used during the phase.
"""

from __future__ import annotations

import os
import socket
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- /proc readings


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _status_kb(pid: int, *keys: str) -> dict[str, int]:
    found = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in keys:
                    found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except OSError:
        return 0


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    rest = stat[stat.rfind(b")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK     # utime + stime


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all CPUs; /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def pids_named(*names: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in names:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _clear_hwm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class TreeMeter:
    """Peak RSS and CPU seconds of a process tree between start() and stop()."""

    def __init__(self, root: int, interval: float = 0.02, services=None):
        self.root = root
        self.services = services or (lambda: [])
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "TreeMeter":
        self.pids = process_tree(self.root)
        self.cpu0 = {pid: _cpu_seconds(pid) for pid in self.pids}
        self.hwm_reset = all(_clear_hwm(pid) for pid in self.pids)
        self.rss_start_mb = sum(_rss_kb(p) for p in self.pids) / 1024
        self.machine0 = machine_busy_seconds()
        self.service0 = {pid: _cpu_seconds(pid) for pid in self.services()}
        self.peak_kb = 0
        self.samples = 0
        self.started = time.perf_counter()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="bench-meter", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        refresh = 0
        while not self._stop.is_set():
            if refresh == 0:
                for pid in process_tree(self.root):
                    if pid not in self.cpu0:
                        self.cpu0[pid] = 0.0
                        self.pids.append(pid)
                refresh = 25
            refresh -= 1
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in self.pids))
            self.samples += 1
            self._stop.wait(self.interval)

    def stop(self) -> dict:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in self.pids))
        hwm = [_status_kb(p, "VmHWM").get("VmHWM", 0) for p in self.pids]
        live = [p for p in self.pids if os.path.exists(f"/proc/{p}")]
        return {
            "seconds": round(time.perf_counter() - self.started, 3),
            "cpu_s": round(sum(_cpu_seconds(p) - self.cpu0.get(p, 0.0) for p in live), 2),
            "machine_cpu_s": round(machine_busy_seconds() - self.machine0, 2),
            "db_cpu_s": round(sum(_cpu_seconds(p) - self.service0.get(p, 0.0) for p in self.services()), 2),
            "peak_rss_mb": round(self.peak_kb / 1024, 1),
            "hwm_sum_mb": round(sum(hwm) / 1024, 1) if self.hwm_reset else None,
            "hwm_max_mb": round(max(hwm) / 1024, 1) if hwm and self.hwm_reset else None,
            "rss_start_mb": round(self.rss_start_mb, 1),
            "rss_end_mb": round(sum(_rss_kb(p) for p in live) / 1024, 1),
            "processes": len(live),
        }


# ---------------------------------------------------------------- backends


def cpu_probe_ms(repeat: int = 5) -> float:
    """Milliseconds for a fixed piece of pure-Python work (best of `repeat`): how fast this machine's
    CPU is right now. On a shared host it varies by run; compare runs only at similar probes."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for i in range(200_000):
            key = f"k{i % 977}"
            table[key] = table.get(key, 0) + i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)
