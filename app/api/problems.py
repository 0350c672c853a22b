"""Errors of the API as ``application/problem+json`` (RFC 9457), each kind with a stable
``type``: a link to its entry on the API's documentation page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from flask import Response, json

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/docs#problem-"


class Kind(NamedTuple):
    status: int
    title: str
    explanation: str


#: Every kind of problem the API answers with, by the last part of its ``type``.
KINDS: dict[str, Kind] = {
    "unauthorized": Kind(
        401,
        "Missing, unknown or revoked token",
        "Send the client's token as `Authorization: Bearer smk_…`. A rotated or revoked token "
        "stops working at once.",
    ),
    "insufficient-scope": Kind(
        403,
        "The token lacks the scope this operation needs",
        "An administrator grants scopes to the client; `detail` names the one missing.",
    ),
    "not-json": Kind(
        400,
        "The body is not JSON",
        "Changing operations take a JSON object sent with `Content-Type: application/json`; "
        "this body was not valid JSON (UTF-8) or came with another content type.",
    ),
    "not-found": Kind(404, "Not found", "No such resource (e.g. an unknown department code)."),
    "method-not-allowed": Kind(405, "Method not allowed", "The path does not take this method."),
    "conflict": Kind(
        409,
        "A parallel change conflicted",
        "Another change of the same rows happened at the same moment; nothing was written. "
        "Send the request again.",
    ),
    "invalid-request": Kind(
        422,
        "The request is not valid",
        "A parameter, header or the body does not match the operation's schema; `problems` "
        "lists each with its item (1 for the first of a batch) and field.",
    ),
    "rejected-rows": Kind(
        422,
        "The batch has problems; nothing was changed",
        "The same checks as an import file: `problems` lists each with its item (1 for the "
        "first of the batch), field, code and message. Fix them and send the whole batch again.",
    ),
    "idempotency-key-reused": Kind(
        422,
        "The Idempotency-Key was used for a different request",
        "A key stands for one request (method, path and body). Use a new key for a new request.",
    ),
    "payload-too-large": Kind(413, "The request is too large", "Send smaller batches."),
    "rate-limited": Kind(
        429,
        "Too many requests",
        "Each client may make a limited number of calls per minute; wait as many seconds as "
        "`Retry-After` says.",
    ),
    "server-error": Kind(500, "Internal error", "Nothing was changed; please report it."),
}

STATUS_KINDS = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}


class ApiProblem(Exception):
    """Raised in a view; answered as a problem document."""

    def __init__(
        self,
        kind: str,
        detail: str | None = None,
        *,
        problems: Sequence[Mapping[str, object]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(kind)
        self.kind, self.detail = kind, detail
        self.problems, self.headers = problems, headers or {}


def problem_body(
    kind: str, detail: str | None = None, problems: Sequence[Mapping[str, object]] | None = None
) -> dict[str, object]:
    known = KINDS[kind]
    body: dict[str, object] = {
        "type": TYPE_BASE + kind,
        "title": known.title,
        "status": known.status,
    }
    if detail:
        body["detail"] = detail
    if problems is not None:
        body["problems"] = list(problems)
    return body


def problem_response(
    kind: str,
    detail: str | None = None,
    *,
    problems: Sequence[Mapping[str, object]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(kind, detail, problems)
    return stored_response(KINDS[kind].status, body, headers=headers)


def stored_response(
    status: int, body: Mapping[str, object], *, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer; a problem document when the status is an error."""
    response = Response(
        json.dumps(body),
        status=status,
        mimetype=MEDIA_TYPE if status >= 400 else "application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
