"""`python -m bench.inprocess`: the hot path measured without HTTP runs on a fresh database
and reports what it claims to (pairs, statements and log pages per pair)."""

from __future__ import annotations

import re
import subprocess
import sys

from server.config import REPO_ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.inprocess", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)


def test_it_measures_pairs_statements_and_log_pages():
    done = _run("--items", "300", "--pairs", "200", "--taskers", "4", "--pages")
    assert done.returncode == 0, done.stderr
    assert re.search(r"200 claim\+submit pairs: [\d,]+ pairs/s", done.stdout), done.stdout
    statements = float(re.search(r"statements per pair.*: ([\d.]+)", done.stdout).group(1))
    assert 5 < statements < 60, done.stdout
    pages = dict((name, float(n)) for n, name in re.findall(r"^\s+([\d.]+)\s+(\S+)$", done.stdout, re.M))
    assert pages["task"] > 0.5 and pages["assignment"] > 0.5, done.stdout


def test_too_few_items_for_the_pairs_is_refused_naming_the_flags():
    done = _run("--items", "100", "--pairs", "100")
    assert done.returncode != 0
    assert "--pairs 100 needs at least 132 --items" in done.stderr
