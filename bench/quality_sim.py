"""The quality-lab simulation over many seeds: how many evaluations it takes to stop a weak tasker, how fast
a bot is paused, and whether a good tasker is ever touched (must be never).

    .venv/bin/python -m bench.quality_sim [--seeds 20]

Each seed runs tests/test_quality_lab.py's scripted taskers (accuracy 0.95, 0.85 and 0.40 at human speed,
and a 0.90 bot answering in one second) through the real claim and submit paths on a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from server.boot import boot
from tests.conftest import close_all, make_config
from tests.test_quality_lab import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    runs = []
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as tmp:
            boot(make_config(Path(tmp)))
            runs.append(simulate(Path(tmp), seed))
            close_all()
    weak = [r["weak40"] for r in runs]
    stopped = [w["evaluations"] for w in weak if w["status"] in ("removed", "paused")]
    print(f"seeds: {len(runs)}")
    print(f"weak tasker (0.40): removed {sum(w['status'] == 'removed' for w in weak)}, "
          f"paused {sum(w['status'] == 'paused' for w in weak)}, still active "
          f"{sum(w['status'] == 'active' for w in weak)}")
    if stopped:
        print(f"  evaluations until stopped: min {min(stopped)}, median {statistics.median(stopped)}, "
              f"max {max(stopped)}")
    bots = [r["bot"]["submissions"] for r in runs if r["bot"]["status"] == "paused"]
    print(f"bot (1 s answers): paused in {len(bots)} of {len(runs)} runs, after {sorted(set(bots))} submissions")
    for name in ("good95", "good85"):
        touched = [r[name]["status"] for r in runs if r[name]["status"] != "active"]
        evaluations = [r[name]["evaluations"] for r in runs]
        print(f"{name}: false removals or pauses {len(touched)} of {len(runs)} "
              f"(evaluations seen per run: {min(evaluations)}-{max(evaluations)})")


if __name__ == "__main__":
    main()
