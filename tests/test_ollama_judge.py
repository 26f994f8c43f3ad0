"""The Ollama judge through the real `ollama` client against a scripted loopback server: verdicts, retries,
timeouts, a host that is down, the exact prompt (criteria, owner's examples, response, images) and `check()`."""

from __future__ import annotations

import base64
import time

import pytest

from plugins.judges import ollama as ollama_judge
from plugins.judges.ollama import client, configure
from plugins.judges.ollama.check import check, check_configured
from plugins.judges.ollama.errors import HostError, MalformedOutput, ModelMissing, NotConfigured, TimedOut, Unreachable
from plugins.judges.ollama.schema import answer_schema
from server.core import judging
from server.plugin_types import CriterionView, JudgeRequest, OutputEntity, TaskView
from tests.fake_ollama import FakeOllama, answer, fake_ollama, http_error, malformed, refused_url, slow  # noqa: F401

REASONING = CriterionView(name="reasoning quality", entities=["selection_reason"], severity="advisory",
                          rule="The reason explains why the chosen query fits the image and does not merely repeat it.")
ACCURACY = CriterionView(name="selection accuracy", entities=["selected_query"],
                         rule="The chosen query names enough context to single out the image, "
                              "without over-specific detail.")
WORDS = CriterionView(name="word count", checks={"min_words": {"selection_reason": 3}})
OUTPUTS = [OutputEntity(name="selected_query", type="single_choice", label="Selected query",
                        choices=["suggested_query_1", "suggested_query_2"]),
           OutputEntity(name="selection_reason", type="text", label="Reason", max_words=40)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00fake image bytes" * 20
EXAMPLE = {"inputs": {"image": "images/img-009.png", "suggested_query_1": "Show me a chart"},
           "response": {"selected_query": "suggested_query_1", "selection_reason": "it is a chart"},
           "verdicts": {"reasoning quality": {"verdict": "fail",
                                              "reason": "Restates the category; says nothing specific."},
                        "some old criterion": {"verdict": "pass"}}}
GOOD = answer({"reasoning quality": ("pass", "Explains that the year and topic single the image out.", 0.9),
               "selection accuracy": ("fail", "Query 1 is over-specific.", 0.65)})


def request(settings: dict | None = None, image: str = "images/img-001.png") -> JudgeRequest:
    task = TaskView(id=3, ext_id="IMG001", data={"title": "Costs report 2015", "author": "Finance"},
                    inputs={"image": image, "suggested_query_1": "Find the costs report 2015 graphs and charts",
                            "suggested_query_2": "Show me a graphs and charts"})
    return JudgeRequest(
        project_name="Query selection", description="Pick the query that best finds this image among similar ones.",
        guidelines="A good query is natural and specific, never vague.", criteria=[REASONING, ACCURACY, WORDS],
        task=task, response={"selected_query": "suggested_query_1",
                             "selection_reason": "It names the report's year and topic, which sets it apart."},
        outputs=OUTPUTS, settings=settings or {})


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    """No configuration or cached vision lookups leak between tests; the environment does not leak in."""
    monkeypatch.delenv("QUORUM_OLLAMA_HOST", raising=False)
    monkeypatch.delenv("QUORUM_OLLAMA_MODEL", raising=False)
    configure({})
    client.forget()
    yield
    configure({})
    client.forget()


@pytest.fixture
def judge(fake_ollama):
    configure({"host": fake_ollama.url, "model": "llama3.2", "timeout": 1, "retries": 2})
    return ollama_judge.OllamaJudge()


def verdicts_of(results) -> dict:
    return {v.criterion: (v.verdict, v.comment, v.confidence) for v in results}


def test_is_a_slow_judge_of_rules_versioned_with_its_model(judge):
    assert (judge.name, judge.cheap) == ("ollama", False)
    assert judge.covers(REASONING) and not judge.covers(WORDS)
    assert judge.version == "1+llama3.2"
    assert judge.version_for({"model": "llava:13b"}) == "1+llava:13b"
    assert ollama_judge.version_for({"model": "llava:13b"}) == "1+llava:13b"
    from server import plugins
    registry = plugins.build_registry(plugins.make_manager(entry_points=False))
    assert isinstance(registry.judges.get("ollama"), ollama_judge.OllamaJudge)


def test_good_answer_gives_a_verdict_comment_and_confidence_per_criterion(judge, fake_ollama):
    fake_ollama.script(GOOD)
    assert verdicts_of(judge.judge(request())) == {
        "reasoning quality": ("pass", "Explains that the year and topic single the image out.", 0.9),
        "selection accuracy": ("fail", "Query 1 is over-specific.", 0.65),
    }
    (sent,) = fake_ollama.chats
    assert sent["model"] == "llama3.2" and sent["stream"] is False
    assert sent["options"] == {"temperature": 0}
    assert sent["format"] == answer_schema(["reasoning quality", "selection accuracy"])
    assert "$ref" not in str(sent["format"]) and "$defs" not in str(sent["format"])
    assert sent["format"]["required"] == ["reasoning quality", "selection accuracy"]
    assert sent["format"]["properties"]["selection accuracy"]["properties"]["verdict"]["enum"] == ["fail", "pass"]


def test_malformed_then_good_succeeds_on_the_retry_and_tells_the_model_what_was_wrong(judge, fake_ollama):
    fake_ollama.script(malformed("Sure! The reason is fine."), GOOD)
    assert verdicts_of(judge.judge(request()))["reasoning quality"][0] == "pass"
    first, second = fake_ollama.chats
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {"role": "assistant", "content": "Sure! The reason is fine."}
    assert "not a JSON object" in second["messages"][3]["content"]


@pytest.mark.parametrize("bad", [
    "Sure! The reason is fine.",
    '```json\n{"reasoning quality": {"comment": "ok", "verdict": "pass", "confidence": 1}}\n```',
    '{"reasoning quality": {"comment": "ok", "verdict": "probably", "confidence": 1}, '
    '"selection accuracy": {"comment": "ok", "verdict": "pass", "confidence": 1}}',
    '{"reasoning quality": {"comment": "ok", "verdict": "pass", "confidence": 1}} and more',
])
def test_malformed_every_time_is_an_error_never_a_pass(judge, fake_ollama, bad):
    fake_ollama.script(malformed(bad))
    with pytest.raises(MalformedOutput, match=r"^malformed model output after 3 tries: ") as raised:
        judge.judge(request())
    assert len(fake_ollama.chats) == 3
    assert raised.value.messages[0]["role"] == "system" and "system" in raised.value.prompt
    assert len(raised.value.outputs) == 3
    verdicts = [v for outcome in judging.run([judge], request()) for v in outcome.verdicts()]
    assert {v.verdict for v in verdicts} == {"error"}
    assert all("malformed model output" in v.comment for v in verdicts)


def test_a_criterion_missing_from_every_answer_gets_an_error_verdict(judge, fake_ollama):
    fake_ollama.script(answer({"selection accuracy": ("pass", "Specific enough.", 0.8)}))
    results = verdicts_of(judge.judge(request()))
    assert results["selection accuracy"] == ("pass", "Specific enough.", 0.8)
    assert results["reasoning quality"][0] == "error" and "no verdict" in results["reasoning quality"][1]
    assert len(fake_ollama.chats) == 3
    assert 'no verdict for "reasoning quality"' in fake_ollama.chats[1]["messages"][-1]["content"]


def test_a_slow_host_times_out_with_the_timeout_named(fake_ollama):
    configure({"host": fake_ollama.url, "model": "llama3.2", "timeout": 0.5})
    fake_ollama.script(slow(5, GOOD))
    started = time.perf_counter()
    with pytest.raises(TimedOut, match=r"within 0\.5 s") as raised:
        ollama_judge.OllamaJudge().judge(request())
    assert time.perf_counter() - started < 2.5
    assert raised.value.transient


def test_a_host_that_refuses_connections_is_unreachable():
    host = refused_url()
    configure({"host": host, "model": "llama3.2", "timeout": 1})
    with pytest.raises(Unreachable) as raised:
        ollama_judge.OllamaJudge().judge(request())
    assert str(raised.value) == f"unreachable: {host} (connection refused)"
    assert raised.value.transient
    results = [v for o in judging.run([ollama_judge.OllamaJudge()], request()) for v in o.verdicts()]
    assert [v.verdict for v in results] == ["error", "error"]


def test_host_errors_and_a_missing_model_are_named(judge, fake_ollama):
    fake_ollama.script(http_error(500, "llama runner process has terminated"))
    with pytest.raises(HostError, match="answered 500: llama runner process has terminated") as raised:
        judge.judge(request())
    assert raised.value.transient
    with pytest.raises(ModelMissing, match=r"model nosuch is not on http://127\.0\.0\.1:\d+ .*ollama pull nosuch"):
        judge.judge(request({"model": "nosuch", "vision": False}))


def test_not_configured_is_a_clear_error_and_asks_nobody(fake_ollama):
    configure({"host": fake_ollama.url})
    expected = "ollama judge is not configured: set [plugins.ollama] model or QUORUM_OLLAMA_MODEL"
    with pytest.raises(NotConfigured) as raised:
        ollama_judge.OllamaJudge().judge(request())
    assert str(raised.value) == expected
    assert fake_ollama.requests == []
    results = [v for o in judging.run([ollama_judge.OllamaJudge()], request()) for v in o.verdicts()]
    assert [(v.verdict, v.comment) for v in results] == [("error", expected)] * 2


def test_environment_then_config_then_project_settings(fake_ollama, monkeypatch):
    monkeypatch.setenv("QUORUM_OLLAMA_HOST", fake_ollama.url)
    monkeypatch.setenv("QUORUM_OLLAMA_MODEL", "llama3.2")
    fake_ollama.script(GOOD)
    configure({})
    ollama_judge.OllamaJudge().judge(request())
    configure({"model": "llava", "num_ctx": 8192})
    ollama_judge.OllamaJudge().judge(request({"model": "llama3.2:latest", "vision": False, "timeout": "2"}))
    assert [c["model"] for c in fake_ollama.chats] == ["llama3.2", "llama3.2:latest"]
    assert fake_ollama.chats[1]["options"] == {"temperature": 0, "num_ctx": 8192}
    with pytest.raises(NotConfigured, match="a project cannot set host, media_root"):
        ollama_judge.OllamaJudge().judge(request({"host": "http://elsewhere:11434", "media_root": "/"}))
    with pytest.raises(NotConfigured, match="ollama judge settings: .*retries"):
        ollama_judge.OllamaJudge().judge(request({"retries": "many"}))
    with pytest.raises(NotConfigured, match=r"ollama judge settings: .*examples\[0\]\.verdicts"):
        ollama_judge.OllamaJudge().judge(request({"examples": [{"verdicts": {"x": {"verdict": "maybe"}}}]}))
    with pytest.raises(NotConfigured, match=r"\[plugins.ollama\]: unknown key modle; known: host, model"):
        configure({"modle": "llava"})


def test_the_prompt_holds_the_project_criteria_examples_and_response(judge, fake_ollama):
    fake_ollama.script(GOOD)
    judged = request({"examples": [EXAMPLE], "context_fields": ["title"]})
    judge.judge(judged)
    (sent,) = fake_ollama.chats
    assert sent["messages"] == ollama_judge.build_prompt(judged)   # the stored prompt is the one sent
    system, user = sent["messages"]
    assert system["role"] == "system" and "JSON" in system["content"]
    text = user["content"]
    for part in ["Pick the query that best finds this image among similar ones.",
                 "A good query is natural and specific, never vague.",
                 f'"reasoning quality" (applies to: Reason (selection_reason)): {REASONING.rule}',
                 f'"selection accuracy" (applies to: Selected query (selected_query)): {ACCURACY.rule}',
                 "### Example 1", '"it is a chart"',
                 '- "reasoning quality": fail. Restates the category; says nothing specific.',
                 '- suggested_query_1: "Find the costs report 2015 graphs and charts"',
                 '- title: "Costs report 2015"',
                 "- Selected query (selected_query) [one of: suggested_query_1 | suggested_query_2]: "
                 '"suggested_query_1"',
                 '- Reason (selection_reason) [at most 40 words]: '
                 '"It names the report\'s year and topic, which sets it apart."']:
        assert part in text, part
    assert "word count" not in text and "some old criterion" not in text
    assert text.index("### Example 1") < text.index("## The task to judge (IMG001)")
    assert "images" not in user
    assert ollama_judge.build_prompt(judged) == ollama_judge.build_prompt(judged)


def test_a_vision_model_sees_a_local_image_under_the_media_root(fake_ollama, tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "img-001.png").write_bytes(PNG)
    configure({"host": fake_ollama.url, "model": "llava", "timeout": 1, "media_root": str(tmp_path)})
    fake_ollama.script(GOOD)
    judge = ollama_judge.OllamaJudge()
    judge.judge(request())
    judge.judge(request())
    user = fake_ollama.chats[0]["messages"][1]
    assert user["images"] == [base64.b64encode(PNG).decode()]
    assert "- image: [image 1, attached]" in user["content"]
    assert len(fake_ollama.received("/api/show")) == 1        # capabilities asked once per model
    shown = ollama_judge.build_prompt(request())[1]
    assert shown["images"] == [f"<image: image, {len(PNG)} bytes>"]
    assert f"<image: image, {len(PNG)} bytes>" in ollama_judge.prompt_text(request())


@pytest.mark.parametrize(("image", "why"), [
    ("https://example.com/img-001.png", "remote links are not fetched"),
    ("../outside.png", "not under the media root"),
    ("images/missing.png", "file not found under the media root"),
])
def test_a_vision_model_gets_words_for_an_image_it_cannot_be_shown(fake_ollama, tmp_path, image, why):
    (tmp_path / "outside.png").write_bytes(PNG)
    (tmp_path / "root").mkdir()
    configure({"host": fake_ollama.url, "model": "llava", "timeout": 1, "media_root": str(tmp_path / "root")})
    fake_ollama.script(GOOD)
    ollama_judge.OllamaJudge().judge(request(image=image))
    user = fake_ollama.chats[0]["messages"][1]
    assert "images" not in user
    assert f'- image: image "{image}" (not shown: {why})' in user["content"]


def test_a_text_model_gets_the_image_described_not_attached(judge, fake_ollama, tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "img-001.png").write_bytes(PNG)
    configure({"host": fake_ollama.url, "model": "llama3.2", "timeout": 1, "media_root": str(tmp_path)})
    fake_ollama.script(GOOD)
    judge.judge(request())
    user = fake_ollama.chats[0]["messages"][1]
    assert "images" not in user
    assert '- image: image "images/img-001.png" (not shown: this model does not take images)' in user["content"]


def test_check_says_ok_with_vision_or_names_what_is_wrong(fake_ollama):
    assert check(fake_ollama.url, "llava", 1) == (True, f"ok: model llava on {fake_ollama.url} (vision: yes)")
    assert check(fake_ollama.url, "llama3.2:latest", 1) == (
        True, f"ok: model llama3.2:latest on {fake_ollama.url} (vision: no)")
    assert check(fake_ollama.url, "qwen2.5vl:7b", 1) == (
        False, f"model qwen2.5vl:7b is not on {fake_ollama.url} (available: llama3.2:latest, llava:latest)")
    host = refused_url()
    assert check(host, "llava", 1) == (False, f"Ollama at {host} is not answering (connection refused)")
    configure({"host": fake_ollama.url})
    assert check_configured() == (
        False, "ollama judge is not configured: set [plugins.ollama] model or QUORUM_OLLAMA_MODEL")
    configure({"host": fake_ollama.url, "model": "llava"})
    assert check_configured()[0]


def test_check_reads_vision_from_model_info_on_a_host_without_capabilities():
    with FakeOllama({"llama3.2-vision:latest": None, "llama3.2:latest": None}) as old:
        assert check(old.url, "llama3.2-vision", 1)[1].endswith("(vision: yes)")
        assert check(old.url, "llama3.2", 1)[1].endswith("(vision: no)")
