"""Quorum: a self-hosted server for human data labeling with measurable quality."""

from server.hookspecs import hookimpl

__all__ = ["hookimpl"]
