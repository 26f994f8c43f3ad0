"""The litestar application: JSON API under /api/v1 and htmx pages."""
