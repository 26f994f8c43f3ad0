"""The Ollama judge: a local model, served by Ollama, gives a pass/fail verdict with a comment per criterion.

It covers criteria written in plain words (a `rule`). Settings come from [plugins.ollama]
(`configure()` at start-up), QUORUM_OLLAMA_HOST / QUORUM_OLLAMA_MODEL, and the project's
judge settings (`JudgeRequest.settings`), the project's winning. The prompt is built by
`build_prompt()` and is the same every time for the same request; the answer is decoded
against a JSON schema at temperature 0. Nothing here ever turns a failure into a pass:
every failure raises `JudgeFailed` (not configured, unreachable, timed out, malformed…).
"""

from __future__ import annotations

import dataclasses

from plugins.judges.ollama import client
from plugins.judges.ollama.check import check, check_configured
from plugins.judges.ollama.errors import JudgeFailed
from plugins.judges.ollama.prompt import Prompt, build, render
from plugins.judges.ollama.settings import Settings, configure, require_model, resolve
from server.hookspecs import hookimpl
from server.plugin_types import CriterionView, Judge, JudgeReport, JudgeRequest, Verdict

VERSION = "1"

__all__ = ["OllamaJudge", "JudgeFailed", "configure", "build_prompt", "prompt_text",
           "version_for", "check", "check_configured"]


def version_for(settings: dict | None = None) -> str:
    """"1+<model>", the version a verdict is recorded under (the model is part of what judged)."""
    try:
        model = resolve(settings).model
    except JudgeFailed:
        model = ""
    return f"{VERSION}+{model}" if model else VERSION


def build_prompt(request: JudgeRequest) -> list[dict]:
    """The messages judge() sends for this request, images as "<image: name, N bytes>".

    Deterministic for a given request and settings; with `vision = "auto"` the model's
    capability is asked of the host once per process (and cached).
    """
    return _prompt(request, resolve(request.settings)).for_display()


def prompt_text(request: JudgeRequest) -> str:
    """build_prompt() as one readable text, for storing beside a judge run."""
    return render(build_prompt(request))


def _prompt(request: JudgeRequest, settings: Settings) -> Prompt:
    require_model(settings)
    return build(_covered(request), settings, client.supports_vision(settings))


def covers(criterion: CriterionView) -> bool:
    """Criteria with a rule in plain words are the model's to judge."""
    return bool(criterion.rule.strip())


def _covered(request: JudgeRequest) -> JudgeRequest:
    criteria = [c for c in request.criteria if covers(c)]
    if len(criteria) == len(request.criteria):
        return request
    return dataclasses.replace(request, criteria=criteria)   # keeps any field JudgeRequest gains


class OllamaJudge(Judge):
    name = "ollama"
    cheap = False

    @property
    def version(self) -> str:   # type: ignore[override]
        """With the server's model; a project that picks another model: version_for(request.settings)."""
        return version_for()

    def version_for(self, settings: dict | None = None) -> str:
        """The version a verdict made with these project settings is recorded under: "1+<model>"."""
        return version_for(settings)

    def covers(self, criterion: CriterionView) -> bool:
        return covers(criterion)

    def judge(self, request: JudgeRequest) -> list[Verdict]:
        return self.run(request).verdicts

    def check(self, settings: dict | None = None) -> tuple[bool, str]:
        return check_configured(settings)

    def run(self, request: JudgeRequest) -> JudgeReport:
        """judge(), keeping the prompt and the raw outputs; raises JudgeFailed (with `.prompt`) on failure."""
        settings = resolve(request.settings)
        request = _covered(request)
        names = [c.name for c in request.criteria]
        version = version_for(request.settings)
        if not names:
            return JudgeReport([], version)
        prompt = _prompt(request, settings)
        reply = client.ask(prompt, names, settings)
        tries = len(reply.outputs)
        verdicts = []
        for name in names:
            answer = reply.answers.get(name)
            if answer is None:
                verdicts.append(Verdict(criterion=name, verdict="error",
                                        comment=f"the model gave no verdict for this criterion "
                                                f"({tries} {'try' if tries == 1 else 'tries'})"))
            else:
                verdicts.append(Verdict(criterion=name, verdict=answer.verdict, comment=answer.comment.strip(),
                                        confidence=answer.confidence))
        return JudgeReport(verdicts, version, render(prompt.for_display()), reply.outputs)


@hookimpl
def quorum_judges():
    return [OllamaJudge()]


@hookimpl
def quorum_configure(config):
    """[plugins.ollama] and QUORUM_OLLAMA_HOST / QUORUM_OLLAMA_MODEL."""
    try:
        configure(config.plugin_config("ollama"))
    except JudgeFailed as exc:
        raise ValueError(f"[plugins.ollama]: {exc}") from exc
