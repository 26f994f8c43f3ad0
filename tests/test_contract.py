"""The public contract: every hook documented and implemented, the API paths published in OpenAPI."""

from __future__ import annotations

import inspect

import httpx

from server import hookspecs, plugins

CONTRACT_PATHS = {
    ("post", "/api/v1/auth/token"), ("post", "/api/v1/projects"), ("get", "/api/v1/projects"),
    ("get", "/api/v1/projects/{project_id}"), ("post", "/api/v1/projects/{project_id}/items"),
    ("post", "/api/v1/projects/{project_id}/batches"), ("post", "/api/v1/projects/{project_id}/claim"),
    ("post", "/api/v1/assignments/{assignment_id}/submit"), ("post", "/api/v1/assignments/{assignment_id}/skip"),
    ("get", "/api/v1/projects/{project_id}/tasks"), ("post", "/api/v1/tasks/{task_id}/review"),
    ("get", "/api/v1/projects/{project_id}/export"),
}


def _hooks() -> list[str]:
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("quorum_")]


def test_every_hook_has_a_docstring():
    for name in _hooks():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} is undocumented"


def test_every_hook_but_events_has_a_builtin_implementation():
    manager = plugins.make_manager(entry_points=False)
    unimplemented = {name for name in _hooks() if not getattr(manager.hook, name).get_hookimpls()}
    assert unimplemented == {"quorum_event"}, "quorum_event is exercised by tests/test_events.py"


def test_openapi_publishes_the_contract_paths(server):
    schema = httpx.get(f"{server.url}/schema/openapi.json").json()
    published = {(verb, path) for path, ops in schema["paths"].items() for verb in ops}
    assert CONTRACT_PATHS <= published, CONTRACT_PATHS - published


def test_the_schema_page_needs_no_internet(server):
    page = httpx.get(f"{server.url}/schema").text
    assert "/static/redoc-2.5.4.standalone.js" in page and "https://" not in page.split("Redoc.init")[0]
    assert httpx.get(f"{server.url}/static/redoc-2.5.4.standalone.js").status_code == 200
