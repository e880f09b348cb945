"""How much a request may send, refused before it is read; and the answers for requests that
fail outside any view (too large, unreadable, the database gone), JSON for the API.

A body is refused by its declared Content-Length before a byte of it is read, and an upload
sent without one (chunked) is cut off by `LimitedUploadHandler` once it passes the limit, so
a huge upload never fills a worker's memory or disk.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

# How long a client should wait before retrying while the database is unavailable.
RETRY_AFTER_SECONDS = 30


class UploadTooLarge(Exception):
    """The request's body is larger than the site accepts (HTTP 413)."""


def too_large_message() -> str:
    megabytes = settings.REQUEST_MAX_BYTES / 1024 / 1024
    return f"The request is larger than the {megabytes:g} MB this site accepts; nothing was saved."


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_answer(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """One error answer: JSON `{"detail": ...}` for the API, a plain page otherwise."""
    if is_api(request):
        return JsonResponse({"detail": message}, status=status)
    page = loader.render_to_string("error.html", {"status": status, "message": message})
    return HttpResponse(page, status=status)


class RequestSizeLimitMiddleware:
    """Refuse a body larger than REQUEST_MAX_BYTES by its Content-Length, unread; map an
    upload cut off while streaming, and Django's own too-much-data refusal, to 413."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_answer(request, 400, "The Content-Length header is not a number.")
        if declared > settings.REQUEST_MAX_BYTES:
            return error_answer(request, 413, too_large_message())
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UploadTooLarge | RequestDataTooBig):
            return error_answer(request, 413, too_large_message())
        if isinstance(exception, OperationalError | InterfaceError):
            return database_unavailable(request)
        return None


class LimitedUploadHandler(FileUploadHandler):
    """First of the upload handlers: counts the bytes of every file in the request as they
    stream in and stops the request once they pass REQUEST_MAX_BYTES (chunked uploads, which
    declare no length, included)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.REQUEST_MAX_BYTES:
            raise UploadTooLarge(too_large_message())
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def database_unavailable(request: HttpRequest) -> HttpResponse:
    # Drop a connection the server has ended now, not only when the request finishes, so
    # nothing later in this request tries to use it; the next request connects afresh.
    for database in connections.all(initialized_only=True):
        database.close_if_unusable_or_obsolete()
    answer = error_answer(
        request, 503, "The database is not available just now; nothing was saved. Try again."
    )
    answer["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return answer


# Django's last-resort handlers (carnk_mfg/urls.py), so that no API answer is HTML.


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_answer(request, 413, too_large_message())
    return error_answer(request, 400, "The request could not be read.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        message = str(exception) if exception and str(exception) else "Not allowed."
        return JsonResponse({"detail": message}, status=403)
    return HttpResponse(
        loader.render_to_string("403.html", {"exception": exception}, request), status=403
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return HttpResponse(loader.render_to_string("404.html", {}, request), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Called inside Django's except block, so the failure in hand is the current exception.
    failure = sys.exc_info()[1]
    if isinstance(failure, OperationalError | InterfaceError):
        return database_unavailable(request)
    if is_api(request):
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
    return HttpResponse(loader.render_to_string("500.html"), status=500)
