"""Domain services: plain functions over models, called by the web layer, the CLI and jobs."""
