"""What every endpoint asks for: the server's state and the caller's principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tierflow.server._state import ServerState
from tierflow.server._tokens import Principal

__all__ = ["needs", "request_id", "server_state", "shown"]

_BEARER = HTTPBearer(auto_error=False, description="a token from the server's tokens file")


def server_state(request: Request) -> ServerState:
    """The state of the app serving ``request``."""
    state: ServerState = request.app.state.tierflow
    return state


def request_id(request: Request) -> str:
    """The request's id (the caller's ``X-Request-ID``, or one the server made)."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def needs(scope: str) -> Callable[..., Principal]:
    """A dependency: the caller's principal, refused unless its token carries ``scope``."""

    def principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Principal:
        token = None if credentials is None else credentials.credentials
        return server_state(request).tokens.authorize(token, scope)

    principal.__name__ = f"needs_{scope}"
    return principal


def shown(state: ServerState, who: Principal, value: Any) -> Any:
    """``value`` as the caller may see it: masked without the ``personal`` scope."""
    return value if who.has("personal") else state.masker.mask(value)
