"""Read YAML with line numbers and decode it into Structs, with errors an editor can act on.

Shared by every content loader (entries, taxonomy, vocabulary, questionnaires): a
problem names the file, the field path, the line and what is expected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import msgspec.inspect
import yaml

from core.content.files import read_content_file
from core.content.model import Problem

T = TypeVar("T")

_PATH_RE = re.compile(r"at `\$(?P<path>[^`]*)`")
_UNKNOWN_FIELD_RE = re.compile(r"unknown field `(?P<name>[^`]+)`")
_MISSING_FIELD_RE = re.compile(r"missing required field `(?P<name>[^`]+)`")


# No content format nests deeper than about 6 levels. PyYAML builds nodes recursively, so
# a file nested a few hundred levels deep ends in a RecursionError, not a YAML error.
MAX_DEPTH = 40


def structure_problem(text: str) -> tuple[int, str] | None:
    """The 0-based line and the reason when ``text`` has a structure no content needs and
    that would cost the reader dearly, else None: collections nested deeper than
    MAX_DEPTH (PyYAML builds nodes recursively: a RecursionError instead of a YAML
    error) or an alias (``*name``; a few lines of anchors and aliases can expand to
    billions of values, the "billion laughs" attack, and no content format uses them).

    Walks PyYAML's event stream, which is produced without recursion and without
    expanding aliases, before anything else sees the text. Syntax errors are left to the
    caller's full parse."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = 0 if event.start_mark is None else int(event.start_mark.line)
            if isinstance(event, yaml.AliasEvent):
                return line, (
                    f"uses the YAML alias *{event.anchor}: content files may not repeat "
                    "values by anchor and alias (&name, *name); write the value out"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return line, (
                        f"is nested more than {MAX_DEPTH} levels deep (lists or mappings "
                        "inside each other); no content needs that, check the brackets "
                        "and indentation"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def parse_yaml(
    text: str, shown: str, problems: list[Problem], *, line_offset: int
) -> tuple[Any, Any] | None:
    if (refused := structure_problem(text)) is not None:
        line, message = refused
        problems.append(Problem(file=shown, line=line + 1 + line_offset, message=message))
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(
            Problem(
                file=shown,
                line=None if mark is None else mark.line + 1 + line_offset,
                message=f"is not valid YAML: {reason}",
            )
        )
        return None
    if not isinstance(data, dict):
        problems.append(
            Problem(
                file=shown,
                line=1 + line_offset,
                message="must be a YAML mapping of field names to values",
            )
        )
        return None
    return data, root


def read_yaml_file(
    path: Path, folder: Path, shown: str, type_: type[T], problems: list[Problem]
) -> tuple[T, Any] | None:
    """Read the YAML file ``path`` under ``folder`` (with core.content.files' rules), parse
    it and decode it into ``type_``: the value and the parsed tree (for line numbers), or
    None with the reasons added to ``problems``."""
    text = read_content_file(path, folder, shown, problems)
    if text is None:
        return None
    parsed = parse_yaml(text, shown, problems, line_offset=0)
    if parsed is None:
        return None
    data, root = parsed
    value = decode(data, type_, root, shown, problems, line_offset=0)
    return None if value is None else (value, root)


def decode(
    data: Any, type_: type[T], root: Any, shown: str, problems: list[Problem], *, line_offset: int
) -> T | None:
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path_match = _PATH_RE.search(message)
        dollar_path = path_match.group("path") if path_match else ""
        path = _split_path(dollar_path)
        text = _PATH_RE.sub("", message).rstrip(" -")
        if unknown := _UNKNOWN_FIELD_RE.search(message):
            path = [*path, unknown.group("name")]
            allowed = ", ".join(_field_names(type_, path[:-1]))
            text = f"unknown field; allowed fields are: {allowed}"
            line = line_of(root, path, line_offset, key=True)
        elif missing := _MISSING_FIELD_RE.search(message):
            path = [*path, missing.group("name")]
            text = "required field is missing"
            line = line_of(root, path[:-1], line_offset)
        else:
            line = line_of(root, path, line_offset)
            if text.startswith("Invalid enum value") and (choices := _choices(type_, path)):
                text = f"{text}; allowed: {', '.join(choices)}"
        problems.append(
            Problem(
                file=shown,
                field=format_path(path) or None,
                line=line,
                message=_explain(text),
            )
        )
        return None


_TYPE_WORDS = {
    "str": "text",
    "int": "a number",
    "float": "a number",
    "bool": "yes/no",
    "null": "nothing",
    "array": "a list, e.g. [a, b]",
    "object": "a mapping of names to values",
    "date": "a date in the form YYYY-MM-DD",
}
_EXPECTED_RE = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`")


def _explain(text: str) -> str:
    """Turn msgspec's wording into what an editor needs to read."""
    if match := _EXPECTED_RE.match(text):
        expected = [_TYPE_WORDS.get(t, t) for t in match["expected"].split(" | ") if t != "null"]
        got = _TYPE_WORDS.get(match["got"], match["got"])
        hint = " (put it in quotes)" if "text" in expected and got in {"a number", "yes/no"} else ""
        return f"expected {' or '.join(expected)}, got {got}{hint}"
    if text.startswith(("Invalid date", "Invalid RFC3339 encoded date")):
        return "expected a date in the form YYYY-MM-DD"
    return text


def _type_at(type_: type[Any], path: list[str | int]) -> Any:
    """The msgspec type info found at ``path`` inside ``type_`` (None where the path is lost)."""
    info: Any = msgspec.inspect.type_info(type_)
    for part in path:
        if isinstance(info, msgspec.inspect.UnionType):
            info = next(
                (t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), None
            )
        if isinstance(info, msgspec.inspect.StructType) and isinstance(part, str):
            info = next((f.type for f in info.fields if f.name == part), None)
        elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.DictType):
            info = info.item_type if isinstance(info, msgspec.inspect.ListType) else info.value_type
        else:
            return None
    return info


def _field_names(type_: type[Any], path: list[str | int]) -> list[str]:
    """The field names of the struct found at ``path`` inside ``type_`` (for nested terms)."""
    info = _type_at(type_, path)
    if isinstance(info, msgspec.inspect.StructType):
        return [f.name for f in info.fields]
    return []


def _choices(type_: type[Any], path: list[str | int]) -> list[str]:
    """The allowed values of the enum or literal found at ``path`` inside ``type_``."""
    info = _type_at(type_, path)
    if isinstance(info, msgspec.inspect.UnionType):
        info = next((t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), None)
    if isinstance(info, msgspec.inspect.EnumType):
        return [str(member.value) for member in info.cls]
    if isinstance(info, msgspec.inspect.LiteralType):
        return [str(value) for value in info.values]
    return []


def _split_path(dollar_path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", dollar_path):
        parts.append(name if name else int(index))
    return parts


def format_path(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def line_of(root: Any, path: list[str | int], line_offset: int, *, key: bool = False) -> int | None:
    """The 1-based file line of the YAML node at ``path`` (or of its key), if found."""
    node = root
    found_line = None if root is None else root.start_mark.line
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    found_line = key_node.start_mark.line
                    node = value_node
                    break
            else:
                break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            found_line = node.start_mark.line
        else:
            break
    else:
        if not key and node is not None and isinstance(node, yaml.ScalarNode):
            found_line = node.start_mark.line
    return None if found_line is None else found_line + 1 + line_offset
