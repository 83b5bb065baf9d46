"""OpenAPI operation docs for handlers without repeating the same YAML in every docstring."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import yaml

ERROR_REF = {"$ref": "#/components/responses/Error"}


def operation(method: str, summary: str, *, tag: str, ok: dict[int, str] | None = None,
              errors: Iterable[int] = (401, 403, 422), query: str | None = None,
              headers: Iterable[str] = ()) -> Callable[[Any], Any]:
    """Attach an OpenAPI operation to a handler's docstring (read by `openapi.build_spec`).

    `ok` maps success codes to descriptions; `errors` lists the error envelope's codes;
    `query` names a marshmallow schema of the query parameters; `headers` optional
    request headers.
    """
    responses: dict[int, Any] = {code: {"description": text}
                                 for code, text in (ok or {200: "OK"}).items()}
    codes = set(errors)
    if method in ("post", "put", "patch"):
        codes |= {400, 413, 415}  # an unreadable, too large or wrongly typed body
    responses.update({code: ERROR_REF for code in sorted(codes)})
    body: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    parameters: list[dict[str, Any]] = []
    if query:
        parameters.append({"in": "query", "schema": query})
    parameters += [{"in": "header", "name": name, "required": False,
                    "schema": {"type": "string"}} for name in headers]
    if parameters:
        body["parameters"] = parameters
    text = yaml.safe_dump({method: body}, sort_keys=False, allow_unicode=True)

    def attach(func: Any) -> Any:
        first = (func.__doc__ or summary).strip().splitlines()[0]
        func.__doc__ = f"{first}\n---\n{text}"
        return func
    return attach
