"""Errors the service layer raises besides Django's ValidationError and PermissionDenied."""


class Conflict(Exception):
    """The record changed under the caller (another user acted first). HTTP 409."""
