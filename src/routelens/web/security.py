"""What guards every response: the token gate and the security headers.

With a token, every request must carry it: `Authorization: Bearer TOKEN` (scripts, probes),
or the `routelens_token` cookie. A browser gets the cookie by opening any page once with
`?token=TOKEN`: the server sets it (HttpOnly, SameSite=Strict) and redirects to the same
URL without the token, so it stays out of the address bar and history. Every response
carries a Content-Security-Policy that allows scripts only from the server's own files
(no inline script, no eval), and headers that keep pages out of frames and referrers.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "routelens_token"
TOKEN_PARAMETER = "token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class SecurityHeaders:
    """ASGI middleware: add `SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TokenGate:
    """ASGI middleware: every request needs the token (header, cookie, or `?token=` once)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        """Wrap `app`; `token` must not be empty."""
        if not token:
            raise ValueError("the token must not be empty")
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the request through, set the cookie and redirect, or answer 401."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._check(request)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def _check(self, request: Request) -> Response | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _matches(credentials.strip(), self.token):
            return None
        if _matches(request.cookies.get(TOKEN_COOKIE), self.token):
            return None
        if _matches(request.query_params.get(TOKEN_PARAMETER), self.token):
            return self._remember(request)
        return PlainTextResponse(
            "routelens serve needs its token: open any page once with ?token=TOKEN, "
            "or send the header Authorization: Bearer TOKEN.\n",
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="routelens"'},
        )

    def _remember(self, request: Request) -> Response:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != TOKEN_PARAMETER]
        # one leading slash: "//host" would send the browser to another site
        path = "/" + request.url.path.lstrip("/")
        target = path + (f"?{urlencode(kept)}" if kept else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            TOKEN_COOKIE,
            self.token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response
