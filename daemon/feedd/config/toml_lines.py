"""TOML files validated by pydantic models, with errors that name the file, line and key."""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from feedd.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def validate_toml(text: str, path: Path, model: type[Model]) -> Model:
    """`text` parsed and validated as `model`; a ConfigError names `path`, the line and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    _MODELS[model.__name__] = model
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, text, path)) from None


def describe_validation_error(exc: ValidationError, text: str, path: Path) -> str:
    """One line per problem: "file:line: dotted.key: what is wrong (got value)"."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = _dotted(loc)
        if error["type"] == "extra_forbidden":
            problem = "unknown key"
            known = _keys_at(exc.title, loc[:-1])
            if isinstance(loc[-1], str) and (close := difflib.get_close_matches(loc[-1], known, n=1)):
                problem += f"; did you mean {close[0]!r}?"
        elif error["type"] == "missing":
            problem = "required key is missing"
        else:
            problem = error["msg"].removeprefix("Value error, ")
            if "input" in error and not isinstance(error["input"], dict | list):
                problem += f" (got {error['input']!r})"
        line = line_of(text, loc)
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"{where}: {key}: {problem}")
    return "\n".join(lines)


#: The models validated here, by name (ValidationError.title), for did-you-mean.
_MODELS: dict[str, type[BaseModel]] = {}


def _keys_at(model_name: str, loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at `loc` (a table, or an entry of an array of tables)."""
    model: Any = _MODELS.get(model_name)
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: `Model`, `list[Model]`, `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        if found := _model_in(argument):
            return found
    return None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number where `loc` is written, e.g. ("feeds", 2, "url") -> 14.

    tomllib keeps no positions, so walk the table headers: enough for feedd's flat layout,
    including sub-tables of array entries (`[feeds.basic_auth]` after the third `[[feeds]]` is
    ("feeds", 2, "basic_auth")) and inline tables (`basic_auth = { env = "X" }`).
    """
    table: tuple[Any, ...] = ()
    array_counts: dict[str, int] = {}
    header_line: dict[tuple[Any, ...], int] = {}
    #: An array of tables as a whole (an unknown `[[feed]]`): where its first entry starts.
    array_line: dict[tuple[Any, ...], int] = {}
    enclosing: int | None = None  # the line of an inline table or array holding `loc`
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _HEADER.match(line):
            name = header.group(2).strip()
            parts = tuple(part.strip().strip('"') for part in name.split("."))
            if header.group(1) == "[[":
                index = array_counts.get(name, 0)
                array_counts[name] = index + 1
                table = (*parts, index)
                array_line.setdefault(parts, number)
            elif parts[0] in array_counts:
                table = (parts[0], array_counts[parts[0]] - 1, *parts[1:])
            else:
                table = parts
            header_line.setdefault(table, number)
            continue
        if key := _KEY.match(line):
            written = (*table, key.group(1).strip('"'))
            if written == loc:
                return number
            if enclosing is None and written == loc[: len(written)]:
                enclosing = number
    if enclosing is not None:
        return enclosing
    if loc in array_line:
        return array_line[loc]
    # The key itself is not written (e.g. it is missing): point at its table.
    for length in range(len(loc), 0, -1):
        if loc[:length] in header_line:
            return header_line[loc[:length]]
    return None
