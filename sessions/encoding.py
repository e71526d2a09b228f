"""Forms arrive in UTF-8 or not at all.

Every page is UTF-8 and so is every form a browser sends from it. A post that
says it is in another charset is refused here, before anything reads
request.POST: Django itself refuses such a form with BadRequest, and its own
400 page then fails as well (it checks the CSRF token, which reads the form
again), so the client would see a 500.
"""

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.decorators import sync_and_async_middleware
from django.utils.translation import gettext_lazy as _

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
# Spelled as Django checks it: it refuses even "utf8".
UTF8 = {"utf-8"}

NOT_UTF8 = _(
    "This form was sent in a character set other than UTF-8. "
    "Please reload the page and send it again."
)


def charset_of_form(content_type: str) -> str | None:
    """The charset a form post names ("" if none); None if it is not a form."""
    kind, *params = (part.strip() for part in content_type.split(";"))
    if kind.lower() not in FORM_TYPES:
        return None
    for param in params:
        name, _equals, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


def _refused(request: HttpRequest) -> bool:
    charset = charset_of_form(request.META.get("CONTENT_TYPE", ""))
    return bool(charset) and charset not in UTF8


def _refusal(request: HttpRequest) -> HttpResponse:
    return render(request, "400.html", {"message": NOT_UTF8}, status=400)


type GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


@sync_and_async_middleware
def utf8_forms_only(get_response: GetResponse) -> GetResponse:
    # Both kinds, so that the ASGI server's async views and streams do not
    # go through a thread for this check; only a refusal renders (in one).
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            if _refused(request):
                return await sync_to_async(_refusal)(request)
            response: HttpResponseBase = await get_response(request)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        return _refusal(request) if _refused(request) else get_response(request)

    return middleware
