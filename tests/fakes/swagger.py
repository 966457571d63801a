"""Forgejo's own API description (Swagger 2.0), used to hold the fake and the adapter to it.

``Spec.match`` finds the operation of a request (method + path relative to ``/api/v1``),
``Spec.check_request`` lists what the spec would reject (unknown query parameters, wrong types,
bodies that do not fit the referenced definition, missing required fields) and
``Spec.check_response`` what the fake answered that the spec does not describe.

Swagger 2.0 schemas are JSON Schema draft 4 plus extensions that draft 4 ignores (``x-go-name``,
``example``, ``format``), so ``jsonschema.Draft4Validator`` checks them as they are, with the
spec's ``definitions`` alongside so that ``$ref`` resolves. Two enums that Forgejo documents only
in prose are added from its source (``modules/structs/commit_status.go``, ``pull_review.go``).
Go encodes nil pointers and slices as ``null`` where the spec says ``object``/``array``: nulls are
dropped from responses before they are checked (requests are checked as sent).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.paths import FIXTURES
from typing import Any, Mapping
from urllib.parse import unquote

from jsonschema import Draft4Validator

SPEC_PATH = FIXTURES / "forgejo-api" / "swagger.v1.json"

ENUMS_FROM_SOURCE = {
    "CommitStatusState": ["pending", "success", "error", "failure", "warning"],
    "ReviewStateType": ["APPROVED", "PENDING", "COMMENT", "REQUEST_CHANGES", "REQUEST_REVIEW", ""],
}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    id: str
    spec: dict
    path_params: dict[str, str]

    def parameters(self, where: str) -> dict[str, dict]:
        return {p["name"]: p for p in self.spec.get("parameters", ()) if p["in"] == where}


class Spec:
    def __init__(self, path: Path = SPEC_PATH):
        self.doc = json.loads(path.read_text())
        self.definitions = self.doc["definitions"]
        self._validators: dict[str, Draft4Validator] = {}
        for name, values in ENUMS_FROM_SOURCE.items():
            self.definitions[name] = {**self.definitions[name], "enum": values}
        self._routes = sorted(
            (
                _route(template, method, op)
                for template, ops in self.doc["paths"].items()
                for method, op in ops.items()
                if method in ("get", "post", "put", "patch", "delete")
            ),
            key=lambda r: -r[0],  # most literal segments first: /issues/comments before /issues/{index}
        )

    def match(self, method: str, raw_path: str) -> Operation | None:
        """The operation for ``raw_path`` (still percent-encoded, relative to the base path)."""
        for _, route_method, template, pattern, names, op in self._routes:
            if route_method != method.lower():
                continue
            m = pattern.fullmatch(raw_path)
            if m:
                params = {name: unquote(value) for name, value in zip(names, m.groups())}
                return Operation(method.upper(), template, op["operationId"], op, params)
        return None

    def check_request(self, op: Operation, query: Mapping[str, str], body: Any) -> list[str]:
        where = f"{op.method} {op.template}"
        problems = []
        declared = op.parameters("query")
        for name, value in query.items():
            param = declared.get(name)
            if param is None:
                problems.append(f"{where}: unknown query parameter {name!r}")
            elif not _fits(param, value):
                expected = param.get("enum") or param.get("type")
                problems.append(f"{where}: query parameter {name}={value!r} is not {expected}")
        for name, param in declared.items():
            if param.get("required") and name not in query:
                problems.append(f"{where}: missing required query parameter {name!r}")
        body_params = list(op.parameters("body").values())
        if body is None:
            if body_params and body_params[0].get("required"):
                problems.append(f"{where}: missing required body")
        elif not body_params:
            problems.append(f"{where}: takes no body, got {body!r}"[:200])
        else:
            problems += [f"{where}: body {e}" for e in self._errors(body_params[0]["schema"], body)]
        return problems

    def check_response(self, op: Operation, status: int, body: Any) -> list[str]:
        where = f"{op.method} {op.template} -> {status}"
        response = op.spec["responses"].get(str(status))
        if response is None:
            return [f"{where}: status not documented"] if status < 300 else []
        ref = response.get("$ref")
        schema = (self.doc["responses"][ref.rsplit("/", 1)[1]] if ref else response).get("schema")
        if schema is None or schema.get("type") == "file" or body is None:
            return []
        return [f"{where}: {e}" for e in self._errors(schema, _without_nulls(body))]

    def _errors(self, schema: dict, instance: Any) -> list[str]:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft4Validator({**schema, "definitions": self.definitions})
        errors = self._validators[key].iter_errors(instance)
        return [f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


@cache
def spec() -> Spec:
    """The spec, parsed once per test session."""
    return Spec()


def _route(template: str, method: str, op: dict):
    integers = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path" and p.get("type") == "integer"}

    def segment(part: str) -> str:
        if not part.startswith("{"):
            return re.escape(part)
        name = part[1:-1]
        return r"(\d+)" if name in integers else ("(.+)" if name == "filepath" else "([^/]+)")

    parts = template.strip("/").split("/")
    pattern = re.compile("/" + "/".join(segment(p) for p in parts))
    names = [p[1:-1] for p in parts if p.startswith("{")]
    literals = sum(not p.startswith("{") for p in parts)
    return literals, method, template, pattern, names, op


def _fits(param: dict, value: str) -> bool:
    kind = param.get("type")
    if "enum" in param and value not in param["enum"]:
        return False
    if kind == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if kind == "boolean":
        return value in ("true", "false")
    return True


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
