"""Media: datasets uploaded with their images (a zip, or `quorum import --media DIR`), stored safely and
served only to the people who may see them; http(s) links pass through and are never fetched."""

from __future__ import annotations

import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import httpx
import msgspec
import pytest

from server.core import media
from server.models import Task
from tests.conftest import make_project
from tests.test_ui_pages import visitor

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "samples"
QUORUM = shutil.which("quorum") or str(Path(sys.executable).parent / "quorum")
ZIP = {"content-type": "application/zip"}


def sample_items() -> list[dict]:
    return msgspec.json.decode((SAMPLES / "image_links.json").read_bytes())


def make_zip(files: dict[str, bytes], links: dict[str, int] | None = None) -> bytes:
    """A zip of `files` (name → bytes); `links` adds symbolic-link entries (name → target length)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(zipfile.ZipInfo(name), content)
        for name in links or {}:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return out.getvalue()


def sample_zip(items: list[dict] | None = None, skip: set[str] = frozenset(), folder: str = "") -> bytes:
    items = sample_items() if items is None else items
    files = {f"{folder}image_links.json": msgspec.json.encode(items)}
    for item in items:
        link = item["link"]
        if not link.startswith("http") and link not in skip:
            files[f"{folder}{link}"] = (SAMPLES / link).read_bytes()
    return make_zip(files)


def stored_files(data_dir: Path, project_id: int) -> list[str]:
    root = media.project_root(data_dir, project_id)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != media.MANIFEST)


def staging_left(data_dir: Path) -> list[Path]:
    base = data_dir / "media" / ".staging"
    return list(base.iterdir()) if base.exists() else []


@pytest.fixture
def owner(server, people):
    return server.login("olivia", people["olivia"])


@pytest.fixture
def project(owner):
    return make_project(owner, name="Sample images")


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize("value, expected", [
    ("images/img-001.png", "images/img-001.png"),
    ("./images//img-001.png ", "images/img-001.png"),
    ("img.png", "img.png"),
    ("../img.png", None), ("images/../../img.png", None), ("/etc/passwd", None), ("//host/x.png", None),
    ("C:/x.png", None), ("C:\\x.png", None), ("images\\x.png", None), ("http://host/x.png", None),
    ("data:image/png;base64,AAAA", None), ("javascript:alert(1)", None), ("a\x00.png", None),
    ("x.png?v=1", None), ("", None), (".", None), (None, None), (3, None),
])
def test_clean_keeps_paths_inside_the_folder(value, expected):
    assert media.clean(value) == expected


def test_url_turns_only_stored_relative_images_into_server_urls():
    assert media.url(7, "images/img 1.png") == "/media/7/images/img%201.png"
    assert media.url(7, "./images/x.PNG") == "/media/7/images/x.PNG"
    for unchanged in ("https://cdn.example/x.png", "http://h/x.png", "../x.png", "/abs/x.png", "notes.txt", None, 4):
        assert media.url(7, unchanged) == unchanged


# ---------------------------------------------------------------- zip import through the API


def test_a_zip_imports_the_sample_and_stores_its_images(owner, project, quorum):
    items = sample_items()
    result = owner.post(f"/projects/{project['id']}/items", content=sample_zip(), headers=ZIP, expect=201).json()
    assert result["created"] == len(items) and result["id_field"] == "id"
    assert result["input_map"] == {"image": "link"}
    linked = sorted({i["link"] for i in items})
    assert result["media"]["stored"] == len(linked) and result["media"]["ignored"] == 0
    assert stored_files(quorum.data_dir, project["id"]) == linked
    first = media.project_root(quorum.data_dir, project["id"]) / linked[0]
    assert first.read_bytes() == (SAMPLES / linked[0]).read_bytes()
    assert Task.get(Task.ext_id == items[0]["id"]).data["link"] == items[0]["link"]   # kept as given
    recorded = {f.path: f for f in media.listing(quorum.data_dir, project["id"])}
    assert recorded[linked[0]].size == first.stat().st_size and recorded[linked[0]].media_type == "image/png"
    assert len(recorded[linked[0]].sha256) == 64
    assert staging_left(quorum.data_dir) == []


def test_a_dataset_in_a_folder_of_the_zip_resolves_beside_it(owner, project, quorum):
    items = sample_items()[:3]
    result = owner.post(f"/projects/{project['id']}/items", content=sample_zip(items, folder="samples/"),
                        headers=ZIP, expect=201).json()
    assert result["created"] == 3
    assert stored_files(quorum.data_dir, project["id"]) == sorted(i["link"] for i in items)


def test_an_image_missing_from_the_zip_fails_naming_item_and_field_and_stores_nothing(owner, project, quorum):
    items = sample_items()
    missing = items[4]["link"]
    response = owner.post(f"/projects/{project['id']}/items", content=sample_zip(skip={missing}), headers=ZIP,
                          expect=422).json()
    assert response["field"] == "link" and "item 5" in response["error"] and missing in response["error"]
    assert response["errors"][0] == {"item": 5, "field": "link", "message": f"{missing} is not in the zip"}
    assert Task.select().where(Task.project == project["id"]).count() == 0
    assert stored_files(quorum.data_dir, project["id"]) == []
    assert staging_left(quorum.data_dir) == []


def test_zip_entries_outside_the_folder_are_refused(owner, project, quorum):
    for bad in ("../evil.png", "/evil.png", "images/../../evil.png", "C:/evil.png", "a\\..\\evil.png"):
        body = make_zip({"image_links.json": b'[{"id": "1", "link": "images/img-001.png"}]',
                         "images/img-001.png": (SAMPLES / "images/img-001.png").read_bytes(), bad: b"\x89PNG"})
        response = owner.post(f"/projects/{project['id']}/items", content=body, headers=ZIP, expect=422).json()
        assert "not a relative path inside the zip" in response["error"] and response["field"] == bad, bad
    assert Task.select().where(Task.project == project["id"]).count() == 0
    assert stored_files(quorum.data_dir, project["id"]) == []
    assert list(quorum.data_dir.parent.rglob("evil.png")) == []


def test_symbolic_links_in_a_zip_and_items_pointing_outside_are_refused(owner, project, quorum):
    linked = make_zip({"image_links.json": b'[{"id": "1", "link": "images/x.png"}]'}, links={"images/x.png": 1})
    response = owner.post(f"/projects/{project['id']}/items", content=linked, headers=ZIP, expect=422).json()
    assert "symbolic link" in response["error"]
    escaping = make_zip({"image_links.json": b'[{"id": "1", "link": "images/img-001.png"}, '
                                             b'{"id": "2", "link": "../../secret.png"}]',
                         "images/img-001.png": b"\x89PNG"})
    response = owner.post(f"/projects/{project['id']}/items", content=escaping, headers=ZIP, expect=422).json()
    assert response["errors"][0]["item"] == 2 and response["field"] == "link"
    assert "not a relative path inside the zip" in response["error"]
    assert stored_files(quorum.data_dir, project["id"]) == []


def test_zip_limits_are_enforced(owner, project, quorum):
    body = sample_zip(sample_items()[:5])
    quorum.media.max_files = 3
    try:
        response = owner.post(f"/projects/{project['id']}/items", content=body, headers=ZIP, expect=422).json()
        assert "more than 3 files" in response["error"]
    finally:
        quorum.media.max_files = 100_000
    quorum.media.max_file_bytes = 100
    try:
        response = owner.post(f"/projects/{project['id']}/items", content=body, headers=ZIP, expect=422).json()
        assert "larger than" in response["error"] and "media.max_file_bytes" in response["error"]
    finally:
        quorum.media.max_file_bytes = 200 * 1024**2
    assert owner.post(f"/projects/{project['id']}/items", content=b"not a zip", headers=ZIP,
                      expect=422).json()["error"] == "the upload is not a zip file"
    assert Task.select().where(Task.project == project["id"]).count() == 0
    assert stored_files(quorum.data_dir, project["id"]) == []


def test_media_can_be_added_on_its_own_then_named_by_a_plain_import(owner, project, quorum):
    images = {f"images/img-00{n}.png": (SAMPLES / f"images/img-00{n}.png").read_bytes() for n in (1, 2)}
    stored = owner.post(f"/projects/{project['id']}/media", content=make_zip(images), headers=ZIP, expect=201).json()
    assert stored == {"stored": 2, "bytes": sum(map(len, images.values())), "ignored": 0}
    # a later zip may name files the project already has
    body = make_zip({"image_links.json": b'[{"id": "1", "link": "images/img-001.png"}, '
                                         b'{"id": "2", "link": "images/img-002.png"}]'})
    assert owner.post(f"/projects/{project['id']}/items", content=body, headers=ZIP, expect=201).json()["created"] == 2
    assert owner.post("/projects/999/media", content=make_zip(images), headers=ZIP, expect=404)


# ---------------------------------------------------------------- serving


def _labelled_project(owner, project) -> int:
    owner.post(f"/projects/{project['id']}/items", content=sample_zip(sample_items()[:4]), headers=ZIP, expect=201)
    owner.post(f"/projects/{project['id']}/batches", json={"kind": "production"}, expect=201)
    return project["id"]


def test_a_tasker_sees_the_images_of_the_task_they_hold_and_nobody_else_does(apis, server, owner, project, quorum):
    pid = _labelled_project(owner, project)
    tom, tina, rey = apis["tom"], apis["tina"], apis["rey"]
    claimed = tom.post(f"/projects/{pid}/claim").json()
    image = claimed["inputs"]["image"]
    assert image.startswith(f"/media/{pid}/images/img-") and image.endswith(".png")
    stored = media.project_root(quorum.data_dir, pid) / image.split(f"/media/{pid}/", 1)[1]

    got = tom.client.get(image)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content == stored.read_bytes()
    assert got.headers["cache-control"].startswith("private") and got.headers["x-content-type-options"] == "nosniff"
    again = tom.client.get(image, headers={"if-none-match": got.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    assert tina.client.get(image).status_code == 404                 # holds no task naming it
    other = tina.post(f"/projects/{pid}/claim").json()["inputs"]["image"]
    assert other != image and tina.client.get(other).status_code == 200
    assert tina.client.get(image).status_code == 404 and tom.client.get(other).status_code == 404
    assert tom.client.get(f"/media/{pid}/images/nope.png").status_code == 404
    assert tom.client.get(f"/media/{pid}/images/%2e%2e/%2e%2e/quorum.db").status_code == 404

    assert httpx.get(server.url + image).status_code == 401           # anonymous
    assert owner.client.get(image).status_code == 200 and owner.client.get(other).status_code == 200
    assert rey.client.get(image).status_code == 200                   # reviewer
    assert owner.client.get(f"/media/{pid}/images/nope.png").status_code == 404

    tom.post(f"/assignments/{claimed['assignment_id']}/submit", json={"response": {"label": "Infographics"}})
    assert tom.client.get(image).status_code == 200                   # answered: still his to see
    skipped = tom.post(f"/projects/{pid}/claim").json()
    tom.post(f"/assignments/{skipped['assignment_id']}/skip")
    assert tom.client.get(skipped["inputs"]["image"]).status_code == 404   # given back: no longer his


def test_someone_outside_the_space_gets_404(server, owner, project):
    from server.core import users
    from server.models import Space

    pid = _labelled_project(owner, project)
    users.create_user("oscar", "oscar-pw", "owner", Space.create(name="Elsewhere"))
    oscar = server.login("oscar", "oscar-pw")
    first = sample_items()[0]["link"]
    assert oscar.client.get(f"/media/{pid}/{first}").status_code == 404


def test_pages_show_stored_images_through_the_server_with_the_session(server, people, owner, project, quorum):
    pid = _labelled_project(owner, project)
    tom = visitor(server, people, "tom")
    fragment = tom.htmx(f"/projects/{pid}/label/next").text
    src = fragment.split('<img src="', 1)[1].split('"', 1)[0]
    assert src.startswith(f"/media/{pid}/images/img-")
    got = tom.get(src)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    olivia = visitor(server, people, "olivia")
    assert olivia.get(src).status_code == 200
    # the owner's task list shows the URL; the export keeps the value the dataset gave
    rows = owner.get(f"/projects/{pid}/tasks").json()["items"]
    assert all(r["inputs"]["image"].startswith(f"/media/{pid}/") for r in rows)


def test_export_keeps_the_relative_path(apis, owner, project):
    pid = _labelled_project(owner, project)
    tom = apis["tom"]
    claimed = tom.post(f"/projects/{pid}/claim").json()
    tom.post(f"/assignments/{claimed['assignment_id']}/submit", json={"response": {"label": "Infographics"}})
    rows = owner.get(f"/projects/{pid}/export?format=json").json()
    assert rows and rows[0]["image"].startswith("images/img-")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_the_tasker_check_works_on_both_backends(apis, owner, project, quorum, backend):
    pid = _labelled_project(owner, project)
    claimed = apis["tom"].post(f"/projects/{pid}/claim").json()
    path = claimed["inputs"]["image"].split(f"/media/{pid}/", 1)[1]
    tom_id = Task.get(Task.id == claimed["task_id"]).assignments[0].tasker_id
    assert media.tasker_holds(tom_id, pid, path, ["link"])
    assert not media.tasker_holds(tom_id, pid, "images/img-999.png", ["link"])
    assert not media.tasker_holds(tom_id, pid, path, ["other_field"])
    assert apis["tom"].client.get(claimed["inputs"]["image"]).status_code == 200


# ---------------------------------------------------------------- remote links


class Listener:
    """A TCP port that counts connections: proof the server never fetched a remote image."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def test_remote_links_pass_through_unchanged_and_are_never_fetched(server, people, apis, owner, project, quorum):
    listener = Listener()
    try:
        remote = f"http://127.0.0.1:{listener.port}/remote/cat.png"
        items = [{"id": "r1", "link": remote}, {"id": "l1", "link": "images/img-001.png"}]
        result = owner.post(f"/projects/{project['id']}/items", content=sample_zip(items), headers=ZIP,
                            expect=201).json()
        assert result["created"] == 2 and result["media"]["stored"] == 1
        owner.post(f"/projects/{project['id']}/batches", json={"kind": "production"}, expect=201)
        seen = {apis["tom"].post(f"/projects/{project['id']}/claim").json()["inputs"]["image"],
                apis["tina"].post(f"/projects/{project['id']}/claim").json()["inputs"]["image"]}
        assert seen == {remote, f"/media/{project['id']}/images/img-001.png"}
        rey = visitor(server, people, "rey")
        table = rey.get(f"/projects/{project['id']}").text + owner.get(f"/projects/{project['id']}/tasks").text
        assert remote in table
        assert listener.connections == 0
    finally:
        listener.close()


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def cli_env(tmp_path):
    return {**os.environ, "QUORUM_DATA_DIR": str(tmp_path / "data"),
            "QUORUM_DATABASE_URL": f"sqlite:///{tmp_path}/data/quorum.db"}


def run(env, *args, ok=True):
    result = subprocess.run([QUORUM, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def test_cli_import_with_media_copies_the_named_files_and_names_a_missing_one(cli_env, tmp_path):
    run(cli_env, "demo")       # project 1: a classification project
    data_dir = tmp_path / "data"
    items = sample_items()
    out = run(cli_env, "import", "1", str(SAMPLES / "image_links.json"), "--media", str(SAMPLES),
              "--map", "image=link").stdout
    assert f"imported {len(items)} items" in out and f"stored {len({i['link'] for i in items})} media files" in out
    assert stored_files(data_dir, 1) == sorted({i["link"] for i in items})

    folder = tmp_path / "more"
    (folder / "pics").mkdir(parents=True)
    shutil.copy(SAMPLES / "images/img-001.png", folder / "pics/a.png")
    (folder / "pics/link.png").symlink_to(SAMPLES / "images/img-002.png")
    dataset = tmp_path / "more.jsonl"
    dataset.write_bytes(b'{"id": "m1", "link": "pics/a.png"}\n{"id": "m2", "link": "pics/b.png"}\n')
    failed = run(cli_env, "import", "1", str(dataset), "--media", str(folder), "--map", "image=link", ok=False)
    assert failed.returncode == 1 and "line 2" in failed.stderr and "link" in failed.stderr
    assert "pics/b.png is not in" in failed.stderr and "Traceback" not in failed.stderr
    assert not (media.project_root(data_dir, 1) / "pics").exists()
    dataset.write_bytes(b'{"id": "m3", "link": "pics/link.png"}\n')
    failed = run(cli_env, "import", "1", str(dataset), "--media", str(folder), "--map", "image=link", ok=False)
    assert "symbolic links are not followed" in failed.stderr


def test_locate_never_follows_a_symbolic_link(tmp_path):
    root = media.project_root(tmp_path, 5)
    (root / "images").mkdir(parents=True)
    (root / "images/ok.png").write_bytes(b"\x89PNG")
    (root / "images/evil.png").symlink_to("/etc/passwd")
    (root / "linked").symlink_to(root / "images")
    assert media.locate(tmp_path, 5, "images/ok.png") == root / "images/ok.png"
    assert media.locate(tmp_path, 5, "images/evil.png") is None
    assert media.locate(tmp_path, 5, "linked/ok.png") is None
    assert media.locate(tmp_path, 5, "images") is None
