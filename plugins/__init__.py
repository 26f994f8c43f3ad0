"""Quorum's built-in plugins, registered exactly like a third party's (see `server.plugins.BUILTINS`)."""
