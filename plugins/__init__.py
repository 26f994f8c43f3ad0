"""Quorum's built-in plugins, registered exactly like a third party's (the BUILTINS tuple below)."""

# Every built-in plugin, registered by server/plugins.py exactly like a third party's entry point.
BUILTINS = (
    "plugins.tasktypes.classification",
    "plugins.tasktypes.query_selection",
    "plugins.tasktypes.query_generation",
    "plugins.tasktypes.qa_generation",
    "plugins.tasktypes.image_comparison",
    "plugins.judges.static",
    "plugins.judges.ollama",
    "plugins.importers.json_array",
    "plugins.importers.jsonl",
    "plugins.importers.csv_rows",
    "plugins.exporters.json_array",
    "plugins.exporters.jsonl",
    "plugins.exporters.csv_rows",
    "plugins.project_templates.query_selection",
    "plugins.project_templates.query_generation",
    "plugins.project_templates.classification",
    "plugins.project_templates.qa_generation",
    "plugins.project_templates.image_comparison",
    "plugins.demo",
)
