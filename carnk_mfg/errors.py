"""Errors the service layer raises besides Django's ValidationError and PermissionDenied."""


class Conflict(Exception):
    """The record changed under the caller (another user acted first). HTTP 409."""


class Unavailable(Exception):
    """A device the write needs (a label printer) is not configured or did not answer; what
    could be recorded of the attempt is recorded. HTTP 503."""
