"""Refuses request bodies above a size limit before they are read into memory (413).

A declared ``Content-Length`` over the limit is answered at once; a chunked body is counted as it arrives
and cut off at the limit, so a client cannot stream an unbounded upload by leaving the length out.

Multipart uploads (help-center files, task files) may be large; every other body is JSON, which FastAPI
parses in the event loop: a 15 MB JSON body cost 0.4 s of the loop, stalling every request, and 380 MB of
memory. JSON bodies have their own, smaller limit. Bodies sent without a valid key are never read at all
(``api.auth.KeyFirstRoute``).
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes

    def _limit(self, headers: dict[bytes, bytes]) -> tuple[int, str]:
        """The limit for this request's body, and what the refusal adds about it."""
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/"):
            return self.max_bytes, ""
        if self.max_json_bytes < self.max_bytes:
            return self.max_json_bytes, f" (a multipart upload: {self.max_bytes})"
        return self.max_bytes, ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit, note = self._limit(headers)

        def refusal(size: str) -> str:
            return f"the request body is {size} bytes; this server accepts at most {limit}{note}"

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = error_response(413, "payload_too_large", refusal(declared.decode()))
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes HTTPException through its body parsing; api.errors reshapes it.
                    raise HTTPException(413, refusal(f"more than {received}"))
            return message

        await self.app(scope, counting_receive, send)
