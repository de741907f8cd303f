"""Typed errors for API server answers (client-go's `k8s.io/apimachinery/pkg/api/errors`).

Invariants:
- Every failed request surfaces as an `ApiError`; the subclass is chosen from the API server's
  `Status` object (its `reason` first, then the HTTP code), so a caller can write
  `except NotFound:` instead of comparing numbers.
- `AlreadyExists` is not a `Conflict` (client-go keeps them apart too): code that retries an
  optimistic-concurrency conflict must not retry a create of a name that is taken.
- `Gone` covers both 410 Gone and reason `Expired` (an expired watch or continue token): either
  way the caller's resourceVersion is too old and it must relist.
- A request that never got an HTTP answer (connection refused or reset, TLS failure, timeout)
  is a `TransportError` with `status == 0`; it is always safe to retry a read after one.
- Messages come from the server; a `Status` never carries secrets, so they may be logged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An API request that failed; `status` is the HTTP code (0 when there was no answer)."""

    default_status = 0

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        body: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status: int = self.default_status if status is None else status
        self.reason = reason
        self.message = message
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        reason = f" {self.reason}" if self.reason else ""
        return f"({self.status}{reason}) {self.message}"

    @property
    def causes(self) -> list[dict[str, Any]]:
        details = (self.body or {}).get("details") or {}
        return list(details.get("causes") or [])

    @classmethod
    def from_status(cls, status_obj: Mapping[str, Any], *, retry_after: float | None = None) -> ApiError:
        """The typed error for a `Status` object (from a response body or a watch ERROR event)."""
        code = int(status_obj.get("code") or 0)
        reason = str(status_obj.get("reason") or "")
        message = str(status_obj.get("message") or reason or f"HTTP {code}")
        details = status_obj.get("details") or {}
        if retry_after is None and details.get("retryAfterSeconds"):
            retry_after = float(details["retryAfterSeconds"])
        error_cls = _class_for(code, reason)
        return error_cls(message, status=code, reason=reason, body=dict(status_obj), retry_after=retry_after)

    @classmethod
    def from_response(cls, status: int, data: bytes, headers: Mapping[str, str] | None = None) -> ApiError:
        """The typed error for an HTTP answer; a body that is not a `Status` still gets its class by code."""
        retry_after = _retry_after(headers)
        body: Any = None
        try:
            body = json.loads(data) if data else None
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("kind") == "Status":
            body.setdefault("code", status)
            return cls.from_status(body, retry_after=retry_after)
        text = data.decode("utf-8", "replace").strip()[:500] if data else ""
        message = text or f"HTTP {status}"
        return _class_for(status, "")(message, status=status, reason="", body=None, retry_after=retry_after)


class BadRequest(ApiError):
    default_status = 400


class Unauthorized(ApiError):
    default_status = 401


class Forbidden(ApiError):
    default_status = 403


class NotFound(ApiError):
    default_status = 404


class MethodNotAllowed(ApiError):
    default_status = 405


class Conflict(ApiError):
    """409: most often a stale `resourceVersion` on update (re-read and retry)."""

    default_status = 409


class AlreadyExists(ApiError):
    """409 with reason AlreadyExists: a create of a name that is taken."""

    default_status = 409


class Gone(ApiError):
    """410 Gone or reason Expired: the resourceVersion or continue token is too old; relist."""

    default_status = 410


class Invalid(ApiError):
    """422: the object failed validation; `causes` name the fields (`field`, `message`, `reason`)."""

    default_status = 422

    def __str__(self) -> str:
        fields = "; ".join(f"{c.get('field', '?')}: {c.get('message', '')}" for c in self.causes)
        return f"{super().__str__()}" + (f" [{fields}]" if fields and fields not in self.message else "")


class TooManyRequests(ApiError):
    """429: API Priority and Fairness rejected the request; `retry_after` says when to try again."""

    default_status = 429


class InternalError(ApiError):
    default_status = 500


class ServiceUnavailable(ApiError):
    default_status = 503


class ServerTimeout(ApiError):
    """504, or reason ServerTimeout/Timeout: the server could not finish in time; safe to retry."""

    default_status = 504


class TransportError(ApiError):
    """No HTTP answer: connection refused or reset, TLS failure, read timeout."""

    default_status = 0


class LeadershipLost(ApiError):
    """A write refused by the client itself: this process no longer holds its leader Lease (its last
    renewal is older than the renew deadline, e.g. after the process was stopped), so another replica may
    lead already. Never sent to the API server."""

    default_status = 0


class NoKindMatch(ApiError):
    """The API server does not serve this group/version/kind (yet): e.g. a CRD not installed.

    Deliberately not a `NotFound`: a reconciler that ignores a missing object must not silently
    ignore a missing API.
    """

    default_status = 404


_BY_REASON: dict[str, type[ApiError]] = {
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "NotFound": NotFound,
    "Invalid": Invalid,
    "Forbidden": Forbidden,
    "Unauthorized": Unauthorized,
    "Gone": Gone,
    "Expired": Gone,
    "TooManyRequests": TooManyRequests,
    "ServerTimeout": ServerTimeout,
    "Timeout": ServerTimeout,
    "BadRequest": BadRequest,
    "MethodNotAllowed": MethodNotAllowed,
    "InternalError": InternalError,
    "ServiceUnavailable": ServiceUnavailable,
}

_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
    500: InternalError,
    503: ServiceUnavailable,
    504: ServerTimeout,
}


def _class_for(code: int, reason: str) -> type[ApiError]:
    return _BY_REASON.get(reason) or _BY_CODE.get(code) or ApiError


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the API server never sends one


def is_expired(error: BaseException) -> bool:
    """True when a list or watch must restart from a fresh (quorum) list: 410/Expired, or a
    resourceVersion the server has not reached ("too large resource version", 504 + cause)."""
    if isinstance(error, Gone):
        return True
    if isinstance(error, ServerTimeout):
        return any(c.get("reason") == "ResourceVersionTooLarge" for c in error.causes)
    return False
