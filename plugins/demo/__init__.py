"""The demo that `quorum demo` sets up: an image classification project over images shipped here.

The images are synthetic charts and diagrams (from the project's sample data), so the
demo works with no internet; this plugin serves them under /static/demo/.
"""

from pathlib import Path

from server.hookspecs import hookimpl

IMAGES = Path(__file__).parent / "images"
SPACE = "Demo"
OWNER = ("owner", "owner-pass")
TASKER = ("tasker", "tasker-pass")
REVIEWER = ("reviewer", "reviewer-pass")

PROJECT = {
    "name": "Demo: classify chart images",
    "task_type": "classification",
    "description": "Give each image exactly one category by its dominant purpose.",
    "guidelines": (
        "## What to do\n"
        "Pick the one category that best describes the image's main purpose.\n\n"
        "- **Graphs and Charts**: plots of data (bar, line, pie, scatter).\n"
        "- **Diagrams**: structures and relations; choose a subtype.\n"
        "- **Data and Process Flow**: steps or data moving between stages.\n"
        "- **Infographics**: mixed text, icons and figures telling a story.\n"
        "- **Multi-Figure Images**: several separate figures in one image.\n"
        "- **Uncategorized**: when in doubt, rather than forcing a fit.\n\n"
        "Keys 1–6 choose a category; Enter submits."
    ),
    "overlap": 1,
    "price_cents": 100,
    "require_calibration": False,
}


def items() -> list[dict]:
    return [{"id": f"demo-{p.stem}", "image": f"/static/demo/{p.name}"} for p in sorted(IMAGES.glob("*.png"))]


@hookimpl
def quorum_static_dirs():
    return [("demo", IMAGES)]
