"""HEAD requests answered as GET without the body.

RFC 9110 asks every general-purpose server to answer HEAD wherever it answers GET (monitors and link
checkers send it); FastAPI routes only the methods a route declares, and declaring HEAD on each GET route
would add an operation per route to the OpenAPI document.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                await send(message)
            elif not ended:
                # The first part of the body ends the response; the server then reports the request as
                # disconnected, which stops a streamed body from being produced on.
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)
