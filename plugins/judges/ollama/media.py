"""Images for vision models: local files under the configured media root, never a remote URL.

An IMAGE input holds a path or a link. A relative path ("images/img-001.png") or a
site path ("/static/demo/img-001.png") is looked up under `media_root` (one folder, or
a table of URL prefix → folder) and must stay inside it. http(s) links are not
fetched: the judge's server may not reach them, and fetching on an owner's behalf is
a door to the inside network. Whatever cannot be read is described in words instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|gif|webp|bmp)(\?.*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Image:
    """One image attached to a message: the input it came from and its bytes."""

    name: str
    data: bytes

    def placeholder(self) -> str:
        return f"<image: {self.name}, {len(self.data)} bytes>"


def looks_like_image(value: object) -> bool:
    """A guess for when the input entities are unknown: a single path or link ending like an image."""
    return isinstance(value, str) and " " not in value.strip() and bool(IMAGE_SUFFIX.search(value.strip()))


def load(name: str, value: object, media_root: str | dict[str, str] | None, max_bytes: int) -> Image | str:
    """The image's bytes, or the reason it is not shown (for the prompt's words)."""
    if not isinstance(value, str) or not value.strip():
        return "no image value"
    text = value.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE) or text.startswith("//"):
        return "remote links are not fetched"
    path = _local_path(text, media_root)
    if path is None:
        return "not under the media root" if media_root else "no media root is configured"
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return f"larger than {max_bytes} bytes"
        return Image(name=name, data=path.read_bytes())
    except FileNotFoundError:
        return "file not found under the media root"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _local_path(text: str, media_root: str | dict[str, str] | None) -> Path | None:
    text = text.split("?", 1)[0]
    if isinstance(media_root, str) and media_root:
        return _inside(Path(media_root), text.lstrip("/"))
    if isinstance(media_root, dict):
        # the longest matching prefix wins: "/static/demo/" before "/static/"
        for prefix in sorted(media_root, key=len, reverse=True):
            if text.startswith(prefix):
                return _inside(Path(media_root[prefix]), text[len(prefix):].lstrip("/"))
    return None


def _inside(root: Path, relative: str) -> Path | None:
    """root/relative, resolved, only if it stays inside root (no "..", no symlink out)."""
    if not relative:
        return None
    base = root.resolve()
    path = (base / relative).resolve()
    return path if path.is_relative_to(base) and path != base else None
