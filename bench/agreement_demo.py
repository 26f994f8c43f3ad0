"""A scripted review of the query-selection sample project, printing the judge–owner agreement table.

    .venv/bin/python -m bench.agreement_demo

No model is downloaded here, so the "model" is the loopback fake of the Ollama API that the tests
use (tests/fake_ollama.py), reached through the real `ollama` client, answering by a fixed
heuristic: a chosen query passes "Selection accuracy" when it is the longer of the two, with 15% of
its verdicts flipped as the model's own mistakes. The static judge checks "Reason given" (at least
eight words). A scripted owner grades every answer per criterion by other rules (the query must
name a year; the reason must cite it), gives a reason where they disagree, and accepts. The table is what the agreement page and API show.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from plugins.judges.ollama import client, configure
from server.boot import boot
from server.core import agreement, assignment, batches, imports, projects, review, submissions, users, versions
from server.core.projects import ProjectSettings
from server.models import Response
from tests.conftest import close_all, make_config
from tests.fake_ollama import FakeOllama, answer

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples" / "images_with_queries.json"
CRITERIA = [
    versions.CriterionIn(name="Reason given", entities=["selection_reason"],
                         checks={"required": ["selection_reason"], "min_words": {"selection_reason": 8}}),
    versions.CriterionIn(name="Selection accuracy", entities=["selected_query"],
                         rule="The chosen query has enough context to single out the image among similar ones."),
]


def main() -> None:
    rows = json.loads(SAMPLE.read_text())
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, FakeOllama() as fake:
        configure({})
        client.forget()
        boot(make_config(Path(tmp), QUORUM_OLLAMA_HOST=fake.url, QUORUM_OLLAMA_MODEL="llama3.2"))
        owner, _ = users.create_user("owner", "owner-pw", "owner")
        tasker, _ = users.create_user("tasker", "tasker-pw", "tasker")
        project = projects.create(ProjectSettings(name="Query selection sample", template="query_selection",
                                                  judges=["static", "ollama"], overlap=1, require_calibration=False),
                                  owner.id, users.default_space())
        project = versions.edit(project, versions.ProjectEdit(criteria=CRITERIA), owner.id)
        path = Path(tmp) / "items.json"
        path.write_text(json.dumps(rows))
        imports.import_file(project, path)
        batches.create(project, batches.BatchRequest(kind="production"), owner.id)
        project = projects.get(project.id)
        by_id = {r["image_id"]: r for r in rows}
        graded = 0
        while (claimed := assignment.claim(project, tasker.id)) is not None:
            item = by_id[claimed.ext_id]
            choice = rng.choice(["query_1", "query_2"])
            chosen = item["suggested_query_1" if choice == "query_1" else "suggested_query_2"]
            other = item["suggested_query_2" if choice == "query_1" else "suggested_query_1"]
            year = next((w for w in item["title"].split() if w.isdigit()), "")
            reason = rng.choice([f"It names the {year} report and its subject, which sets the image apart.",
                                 "It is more specific and sounds like what a person would type.",
                                 "It is the better one."])
            model_pass = len(chosen.split()) > len(other.split())
            if rng.random() < 0.15:          # the model's own mistakes
                model_pass = not model_pass
            fake.script(answer({"Selection accuracy": ("pass" if model_pass else "fail",
                                                       "longer, more specific" if model_pass else "too vague", 0.8)}))
            done = submissions.submit(claimed.assignment_id, tasker.id,
                                      {"selected_query": choice, "selection_reason": reason})
            owner_accurate = any(w.isdigit() for w in chosen.split())
            owner_reason_ok = len(reason.split()) >= 8 and bool(year) and year in reason
            grades = [_grade(done.response_id, "Selection accuracy", owner_accurate, model_pass),
                      _grade(done.response_id, "Reason given", owner_reason_ok, None)]
            review.review(claimed.task_id, owner.id, review.ReviewRequest(decision="accept", grades=grades))
            graded += 1
        rows_out = agreement.table(project, "live")
        print(f"scripted review of {graded} answers from {SAMPLE.name} "
              f"({Response.select().count()} responses, {len(fake.chats)} model calls)\n")
        print(f"{'criterion':<22} {'judge':<8} {'version':<12} {'count':>5} {'agree':>5} {'rate':>6} {'kappa':>6}")
        for r in rows_out:
            kappa = "—" if r.kappa is None else f"{r.kappa:.2f}"
            print(f"{r.criterion:<22} {r.judge:<8} {r.judge_version:<12} {r.count:>5} {r.agree:>5} "
                  f"{r.rate:>6.2f} {kappa:>6}")
        print(f"\ndisagreements to read: {len(agreement.disagreements(project))}")
        close_all()
        configure({})


def _grade(response_id: int, criterion: str, owner_pass: bool, judge_pass: bool | None) -> review.GradeIn:
    reason = "" if judge_pass is None or judge_pass == owner_pass else (
        "names the year, which is what singles it out" if owner_pass else "no year: too many similar charts match")
    return review.GradeIn(response_id=response_id, criterion=criterion, verdict="pass" if owner_pass else "fail",
                          reason=reason or ("matches the guidelines" if owner_pass else "does not meet the rule"))


if __name__ == "__main__":
    main()
