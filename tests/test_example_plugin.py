"""A third party's plugin needs no core change: the example package in tests/example_plugin is installed with
pip, found through its entry point, and its sentiment task type runs end to end through the API."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server import hookspecs, plugins
from server.core import users
from tests.conftest import jsonl, load_items
from tests.test_ui_pages import assignment_of, visitor

PACKAGE = Path(__file__).parent / "example_plugin"
PIP = [sys.executable, "-m", "pip"]
TEXTS = [
    {"id": "r1", "text": "The support team sorted out my order within an hour. Brilliant."},
    {"id": "r2", "text": "The parcel arrived on Tuesday."},
    {"id": "r3", "text": "Great, the kettle is broken again after two days."},
]
EXPECTED = {"r1": "positive", "r2": "neutral", "r3": "negative"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example package pip-installed into this venv (built from a copy, so the source tree stays clean),
    then uninstalled. Needs a setuptools that builds wheels itself (70.1 or later) in the venv."""
    source = tmp_path_factory.mktemp("plugin") / "quorum-sentiment"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    result = subprocess.run([*PIP, "install", "--no-deps", "--no-build-isolation", "-q", str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"pip could not install the example plugin:\n{result.stdout}{result.stderr}"
    importlib.invalidate_caches()
    try:
        yield importlib.metadata.distribution("quorum-sentiment")
    finally:
        subprocess.run([*PIP, "uninstall", "-y", "-q", "quorum-sentiment"], capture_output=True, check=False)
        importlib.invalidate_caches()
        sys.modules.pop("quorum_sentiment", None)
        plugins.configure()


def test_the_package_declares_one_module_and_its_entry_point(installed):
    (entry_point,) = [ep for ep in installed.entry_points if ep.group == "quorum"]
    assert (entry_point.name, entry_point.value) == ("sentiment", "quorum_sentiment")
    modules = [f for f in installed.files if f.suffix == ".py"]
    assert [f.name for f in modules] == ["quorum_sentiment.py"]


def test_quorum_plugins_lists_the_task_type_from_its_entry_point(installed, tmp_path):
    quorum = Path(sys.executable).parent / "quorum"
    listed = subprocess.run([str(quorum), "plugins"], capture_output=True, text=True, cwd=tmp_path,
                            env={"PATH": str(quorum.parent), "QUORUM_DATA_DIR": str(tmp_path / "data")})
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^task type\s+sentiment\s+from sentiment$", listed.stdout, re.M), listed.stdout
    assert re.search(r"^task type\s+classification\s+from plugins\.tasktypes\.classification$", listed.stdout, re.M)


def test_the_registry_rebuilt_after_install_holds_the_task_type_and_template(installed):
    registry = plugins.configure()
    assert registry.sources["task type sentiment"] == "sentiment"
    assert registry.sources["template sentiment"] == "sentiment"
    assert registry.task_type("sentiment").template is None
    assert "sentiment" not in plugins.build_registry(plugins.make_manager(entry_points=False)).task_types


def test_sentiment_end_to_end_through_the_api(installed, server, people, apis):
    owner, rey = apis["olivia"], apis["rey"]
    users.create_user("tara", "tara-pw", "tasker")
    taskers = [apis["tom"], apis["tina"], server.login("tara", "tara-pw")]
    assert "sentiment" in [t["name"] for t in owner.get("/task-types").json()]
    template = {t["name"]: t for t in owner.get("/templates").json()}["sentiment"]
    assert (template["task_type"], template["overlap"], template["price_cents"]) == ("sentiment", 3, 20)

    project = owner.post("/projects", json={"name": "Reviews", "template": "sentiment", "require_calibration": False}, expect=201).json()
    assert (project["task_type"], project["overlap"], project["guidelines"]) == ("sentiment", 3, template["guidelines"])
    assert [(e["name"], e.get("type", "TEXT")) for e in project["inputs"]] == [("text", "TEXT")]  # TEXT is the default
    assert [(e["name"], e["type"], e.get("choices")) for e in project["outputs"]] == [
        ("sentiment", "single_choice", ["positive", "neutral", "negative"]), ("note", "text", None)]
    criteria = owner.get(f"/projects/{project['id']}/criteria").json()
    assert [c["name"] for c in criteria] == ["Sentiment chosen", "Note is short", "Sentiment fits the text"]
    imported = load_items(owner, project["id"], TEXTS)
    assert (imported["created"], imported["id_field"], imported["input_map"]) == (3, "id", {"text": "text"})

    invalid = [
        ({"sentiment": "angry"}, "sentiment"),
        ({}, "sentiment"),
        ({"sentiment": 1}, "sentiment"),
        ({"sentiment": "positive", "note": " ".join(["word"] * 31)}, "note"),
        ({"sentiment": "positive", "mood": "happy"}, "mood"),
    ]
    by_text = {row["text"]: row["id"] for row in TEXTS}
    for n, tasker in enumerate(taskers):
        for _ in TEXTS:
            claim = tasker.post(f"/projects/{project['id']}/claim").json()
            url = f"/assignments/{claim['assignment_id']}/submit"
            for response, field in invalid if n == 0 else []:
                error = tasker.post(url, json={"response": response}, expect=422).json()
                assert error["field"] == field, (response, error)
            invalid = []
            ext_id = by_text[claim["inputs"]["text"]]
            sentiment = "positive" if (n, ext_id) == (2, "r2") else EXPECTED[ext_id]   # tara dissents once
            answer = {"sentiment": sentiment.upper(), "note": "  sarcasm  " if ext_id == "r3" else ""}
            submitted = tasker.post(url, json={"response": answer}).json()
            assert all(v["verdict"] == "pass" for v in submitted["verdicts"]), submitted
        tasker.post(f"/projects/{project['id']}/claim", expect=204)

    ready = rey.get(f"/projects/{project['id']}/tasks", params={"status": "ready_for_review"}).json()
    tasks = {task["ext_id"]: task for task in ready["items"]}
    assert set(tasks) == set(EXPECTED)
    detail = rey.get(f"/tasks/{tasks['r2']['id']}").json()
    assert detail["aggregate"]["sentiment"] == "neutral" and detail["aggregate"]["votes"] == {"neutral": 2,
                                                                                              "positive": 1}
    assert detail["responses"][0]["data"] == {"sentiment": "neutral", "note": ""}
    rey.post(f"/tasks/{tasks['r1']['id']}/review", json={"decision": "accept"})
    error = rey.post(f"/tasks/{tasks['r2']['id']}/review", json={"decision": "fix", "response": {"sentiment": "meh"}},
                     expect=422).json()
    assert error["field"] == "sentiment"
    rey.post(f"/tasks/{tasks['r2']['id']}/review", json={"decision": "fix", "response": {"sentiment": "negative"}})

    rows = {row["id"]: row for row in owner.get(f"/projects/{project['id']}/export", params={"format": "json"}).json()}
    assert rows == {
        "r1": {"id": "r1", "text": TEXTS[0]["text"], "sentiment": "positive", "responses": 3, "status": "completed"},
        "r2": {"id": "r2", "text": TEXTS[1]["text"], "sentiment": "negative", "responses": 3, "status": "completed"},
        "r3": {"id": "r3", "text": TEXTS[2]["text"], "sentiment": "negative", "responses": 3,
               "status": "ready_for_review"},
    }
    csv_text = owner.get(f"/projects/{project['id']}/export", params={"format": "csv"}).text
    assert csv_text.splitlines()[0] == "id,text,sentiment,responses,status"


def test_the_labeling_page_draws_the_generic_form_with_shortcut_keys(installed, server, people, apis):
    owner = apis["olivia"]
    project = owner.post("/projects", json={"name": "Reviews", "template": "sentiment", "overlap": 1, "require_calibration": False},
                         expect=201).json()
    load_items(owner, project["id"], TEXTS[:1])
    tom = visitor(server, people, "tom")
    form = tom.htmx(f"/projects/{project['id']}/label/next").text
    assert TEXTS[0]["text"] in form
    for key, choice in enumerate(("positive", "neutral", "negative"), 1):
        assert re.search(rf'name="sentiment" value="{choice}"[^>]*data-shortcut="{key}"', form, re.S), choice
    assert 'name="note"' in form and "At most 30 words." in form
    wordy = tom.htmx(f"/assignments/{assignment_of(form)}/submit",
                     {"sentiment": "positive", "note": " ".join(["word"] * 31)})
    assert 'id="error-note"' in wordy.text and "at most 30 allowed" in wordy.text
    done = tom.htmx(f"/assignments/{assignment_of(form)}/submit", {"sentiment": "positive"})
    assert "Submitted." in done.text


def test_the_guide_shows_this_package_verbatim_and_names_every_hook():
    guide = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    for name in ("pyproject.toml", "quorum_sentiment.py"):
        assert (PACKAGE / name).read_text().rstrip() in guide, f"docs/plugins.md shows an old {name}"
    hooks = [name for name in dir(hookspecs) if name.startswith("quorum_")]
    assert hooks and [name for name in hooks if f"`{name}(" not in guide] == []
