"""In Chromium: a tasker labels three images with the keyboard only, then the owner finds them Ready for Review.

Uses Debian's Chromium (never a downloaded browser). Set QUORUM_UI_SCREENSHOTS=<dir>
to keep screenshots of the labeling page and the owner's dashboard.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import load_items, make_project
from tests.test_ui_quality import registered  # noqa: F401 - the fixture

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
GUIDELINES = ("## What to do\nPick the one category that best describes the image's main purpose.\n\n"
              "- **Graphs and Charts**: plots of data.\n- **Diagrams**: structures and relations; choose a subtype.\n"
              "- **Uncategorized**: when in doubt.\n\nKeys 1–6 choose a category; Enter submits.")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium package"),
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_tasker_labels_with_the_keyboard_and_the_owner_sees_them_ready_for_review(server, people, apis, browser):
    owner = apis["olivia"]
    project = make_project(owner, name="Chart images", guidelines=GUIDELINES,
                           description="Give each image exactly one category.")
    items = [{"id": f"img-{n}", "image": f"/static/demo/img-00{n}.png"} for n in (1, 2, 3)]
    load_items(owner, project["id"], items)
    shots = os.environ.get("QUORUM_UI_SCREENSHOTS")

    tasker = browser.new_context(viewport={"width": 1280, "height": 860})
    page = tasker.new_page()
    log_in(page, server.url, "tom", people["tom"])
    page.get_by_role("link", name="Start labeling").click()
    page.wait_for_selector("#task-form")
    page.wait_for_function("document.querySelector('#task img') && document.querySelector('#task img').complete")
    if shots:
        page.screenshot(path=str(Path(shots) / "ui-label.png"), full_page=True)

    for key in ("1", "4", "2"):            # Graphs and Charts, Infographics, Diagrams (which needs a subtype)
        held = page.get_attribute("#task-form", "data-assignment")
        page.keyboard.press(key)
        assert page.is_checked(f'#task [data-shortcut="{key}"]')
        page.keyboard.press("Enter")
        if key == "2":                     # no subtype: the same task comes back, the error beside the subtype
            page.wait_for_selector(".field-error.inline")
            error = page.locator(".field-error")
            assert "required for Diagrams" in error.inner_text()
            assert page.evaluate("document.querySelector('.field-error').previousElementSibling.tagName") == "FIELDSET"
            assert page.get_attribute("#task-form", "data-assignment") == held
            assert page.is_checked('#task [data-shortcut="2"]')        # the answer is kept
            page.keyboard.press("6")       # Uncategorized, then Enter
            page.keyboard.press("Enter")
        page.wait_for_function(
            "held => { const f = document.querySelector('#task-form');"
            " return (f && f.dataset.assignment !== held) || document.querySelector('#task .nothing-left'); }",
            arg=held)
    assert page.is_visible("#task .nothing-left")
    tasker.close()

    manager = browser.new_context(viewport={"width": 1280, "height": 860})
    page = manager.new_page()
    log_in(page, server.url, "olivia", people["olivia"])
    page.get_by_role("link", name="Chart images").click()
    row = page.locator('tr[data-status="ready_for_review"]')
    assert row.locator("td.num").inner_text() == "3"
    if shots:
        page.screenshot(path=str(Path(shots) / "ui-dashboard.png"), full_page=True)
    page.get_by_role("link", name="Review 3 tasks").click()
    page.wait_for_selector("#task-table")
    assert page.locator("#task-table tbody tr").count() == 3
    statuses = page.locator("#task-table .status").all_inner_texts()
    assert statuses == ["Ready for Review"] * 3

    page.select_option("#status", "completed")                      # the filter swaps only the table
    page.wait_for_selector("#task-table .empty")
    assert re.search(r"status=completed", page.url)
    manager.close()


def test_owner_edits_criteria_grades_per_criterion_and_reads_agreement(server, people, apis, browser, registered):
    """Criteria editor (add a row, a refused save shown inline, then saved), the review page's grading with the
    reason required where the owner disagrees and the judge's prompt opened in place, then the agreement table."""
    owner = apis["olivia"]
    project = make_project(owner, name="Chart images", guidelines=GUIDELINES, judges=["static", "echo"],
                           options={"explanation": True})
    load_items(owner, project["id"], [{"id": f"img-{n}", "image": f"/static/demo/img-00{n}.png"} for n in (1, 2)])
    shots = os.environ.get("QUORUM_UI_SCREENSHOTS")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, server.url, "olivia", people["olivia"])

    page.goto(f"{server.url}/projects/{project['id']}/setup/criteria")
    rows = page.locator("fieldset.criterion").count()
    page.get_by_role("button", name="+ Add a criterion").click()
    page.wait_for_function("n => document.querySelectorAll('fieldset.criterion').length === n + 1", arg=rows)
    added = page.locator("fieldset.criterion").last
    added.get_by_label("Name").fill("Explanation long enough")
    added.get_by_label("Explanation").check()
    added.get_by_label("Static checks").fill('{"min_words": {"explanation": 4}')     # not JSON yet
    page.get_by_role("button", name="Save criteria").click()
    error = page.locator(f"#error-c{rows}-checks")
    error.wait_for()
    assert "not valid JSON" in error.inner_text()
    page.locator(f"#c{rows}-checks").fill('{"min_words": {"explanation": 4}}')
    page.get_by_role("button", name="Save criteria").click()
    page.wait_for_selector("#criteria .notice")
    assert "as version 2" in page.locator("#criteria .notice").inner_text()
    if shots:
        page.screenshot(path=str(Path(shots) / "q-criteria.png"), full_page=True)

    tom = apis["tom"]
    for explanation in ("a bar chart", "bars of yearly costs by region"):
        claim = tom.post(f"/projects/{project['id']}/claim").json()
        tom.post(f"/assignments/{claim['assignment_id']}/submit",
                 json={"response": {"label": "Graphs and Charts", "explanation": explanation}})
    page.goto(f"{server.url}/projects/{project['id']}/tasks?status=ready_for_review")
    page.locator("#task-table").get_by_role("link", name="Review").first.click()
    row = page.locator('tr.grade-row[data-criterion="Explanation long enough"]')
    assert "explanation has 3 words" in row.locator("td.judges").inner_text()
    row.get_by_label("pass").check()                       # against the static judge: a reason is now required
    assert row.evaluate("r => r.classList.contains('disagree') && r.querySelector('.reason input').required")
    other = page.locator('tr.grade-row[data-criterion="Category fits the image"]')
    other.get_by_label("pass").check()
    other.locator("details.prompt summary").click()
    other.locator(".judge-run pre.prompt").wait_for()
    assert "ECHO PROMPT" in other.locator(".judge-run pre.prompt").inner_text()
    row.locator(".reason input").fill("three words say enough here")
    if shots:
        page.screenshot(path=str(Path(shots) / "q-review.png"), full_page=True)
    reviewing = page.url
    page.get_by_role("button", name="Accept").click()
    page.wait_for_function("url => location.href !== url", arg=reviewing)     # on to the next task
    page.wait_for_load_state()

    page.goto(f"{server.url}/projects/{project['id']}/agreement")
    cells = page.locator('table.agreement tr[data-criterion="Explanation long enough"][data-judge="static"] td')
    assert cells.nth(3).inner_text() == "1" and cells.nth(5).inner_text() == "0.0%"
    assert page.locator("table.disagreements tbody tr").count() == 1
    if shots:
        page.screenshot(path=str(Path(shots) / "q-agreement.png"), full_page=True)
    context.close()


SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"


def _from_template(owner, template: str, dataset: str, count: int) -> int:
    import msgspec

    project = owner.post("/projects", json={"name": f"{template} in the browser", "template": template,
                                            "require_calibration": False}, expect=201).json()
    rows = msgspec.json.decode((SAMPLES / dataset).read_bytes())[:count]
    owner.post(f"/projects/{project['id']}/items", content=msgspec.json.encode(rows),
               headers={"content-type": "application/json"}, expect=201)
    owner.post(f"/projects/{project['id']}/batches", json={"kind": "production"}, expect=201)
    return project["id"]


def _open_labeling(browser, server, people, project_id: int):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, server.url, "tom", people["tom"])
    page.goto(f"{server.url}/projects/{project_id}/label")
    page.wait_for_selector("#task-form")
    return page


def _wait_for_next(page, held: str) -> None:
    page.wait_for_function("held => { const f = document.querySelector('#task-form');"
                           " return f && f.dataset.assignment !== held; }", arg=held)


def test_query_selection_side_by_side_with_keyboard_and_mouse(server, people, apis, browser):
    from server.models import Response

    pid = _from_template(apis["olivia"], "query_selection", "images_with_queries.json", 2)
    page = _open_labeling(browser, server, people, pid)
    cards = page.locator(".query-card")
    assert cards.count() == 2
    left, right = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"] - 1, "side by side"
    held = page.get_attribute("#task-form", "data-assignment")
    page.keyboard.press("2")                                   # the keyboard picks query 2
    assert page.is_checked('input[name="selected_query"][value="query_2"]')
    page.fill('textarea[name="selection_reason"]', "It names the year and topic that single this chart out.")
    page.keyboard.press("Tab")
    page.get_by_role("button", name=re.compile("Submit")).click()
    _wait_for_next(page, held)
    held = page.get_attribute("#task-form", "data-assignment")
    cards.nth(0).click()                                       # the mouse picks query 1
    page.fill('textarea[name="selection_reason"]', "too short")
    page.get_by_role("button", name=re.compile("Submit")).click()
    page.wait_for_selector(".field-error")
    assert "at least 5" in page.locator(".field-error").first.inner_text(), "the word limit, beside the field"
    assert page.get_attribute("#task-form", "data-assignment") == held and page.is_checked(
        'input[name="selected_query"][value="query_1"]'), "the same task, the choice kept"
    page.fill('textarea[name="selection_reason"]', "Query one names the report and its year, query two is vague.")
    page.get_by_role("button", name=re.compile("Submit")).click()
    page.wait_for_selector(".nothing-left")
    answers = sorted(r.data["selected_query"] for r in Response.select())
    assert answers == ["query_1", "query_2"]


def test_image_comparison_side_by_side_with_the_score_table(server, people, apis, browser):
    from server.models import Response

    pid = _from_template(apis["olivia"], "image_comparison", "images_to_compare.json", 1)
    page = _open_labeling(browser, server, people, pid)
    images = page.locator("#task img")
    assert images.count() == 2
    first, second = images.nth(0).bounding_box(), images.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"], "the two images side by side"
    scores = page.locator('#task input[type="number"]')
    assert scores.count() == 12
    table_top = page.locator("#task table").bounding_box()["y"]
    assert table_top > first["y"], "the score table under the images"
    for i in range(12):                                        # image 1 scores 4s, image 2 scores 3s
        score = scores.nth(i)
        score.click()
        page.keyboard.type("4" if score.get_attribute("name").startswith("image_1_") else "3")
    assert page.locator('output[data-total-for="image_1"]').inner_text() == "24", "totals computed as you type"
    page.keyboard.press("Tab")
    page.keyboard.press("1")                                   # the winner by its shortcut key
    page.fill('input[name="winner_title"]', "Clear onboarding flow diagram")
    page.fill('textarea[name="reasoning"]', "Image one labels every step and reads without context; two is cramped.")
    page.get_by_role("button", name=re.compile("Submit")).click()
    page.wait_for_selector(".nothing-left", timeout=10000)
    saved = Response.get().data
    assert (saved["total_1"], saved["total_2"], saved["winner"]) == (24, 18, "image_1")
