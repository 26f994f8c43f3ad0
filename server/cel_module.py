"""The CEL engine (`common-expression-language`) without its command-line tool.

`import cel` runs the package's __init__, which imports its CLI and with it typer, rich,
prompt_toolkit and pygments: 25 MB in every server process, for nothing the server uses.
This loads the package's compiled module alone (3 MB), and falls back to the package
if its layout ever changes.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path


def _load():
    spec = importlib.util.find_spec("cel")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for path in Path(folder).glob("cel.*.so"):
            loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(path))
            module = importlib.util.module_from_spec(
                importlib.util.spec_from_file_location("cel.cel", str(path), loader=loader))
            loader.exec_module(module)
            if hasattr(module, "compile") and hasattr(module, "Context"):
                return module
    import cel

    return cel


cel = _load()
