"""Errors a user can meet: raised once in the core, turned into a 4xx by the web layer."""

from __future__ import annotations


class QuorumError(Exception):
    status_code = 400

    def __init__(self, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class Invalid(QuorumError):
    """Bad input; `field` names the field, row or line."""

    status_code = 422


class NotFound(QuorumError):
    status_code = 404


class Forbidden(QuorumError):
    status_code = 403


class Unauthorized(QuorumError):
    status_code = 401


class Conflict(QuorumError):
    """The request is sound but the state forbids it now (lease expired, already reviewed, gate closed)."""

    status_code = 409
