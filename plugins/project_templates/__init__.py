"""Project templates for the five seed use cases: one module per use case, each a plugin of its own.

A template is a ready project an owner starts from (`POST /api/v1/projects {"name", "template"}`)
and then edits: the task type, the task in the owner's words, guidelines with a good and a bad
example and the edge cases, a suggested price per task, overlap, judges and the sample dataset it
fits. Criteria are the task type's defaults unless a template brings a better set.
"""
