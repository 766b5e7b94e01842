"""Themes: a folder with ``theme.yaml`` (name, label, parent, design tokens), Jinja2
``templates/`` and ``static/`` files. A theme overrides only what it changes; templates,
static files and tokens it lacks come from its parent, ultimately ``default``.

Themes are contributed through the ``themes`` plugin hook (the built-in ones too). The
manifest is decoded into a Struct with unknown fields forbidden; problems are reported
like content problems (file, field, line) by ``mentoring40 content check``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from core.content.model import Problem
from core.content.yamlfile import line_of, read_yaml_file
from core.plugins import PluginRegistry
from core.settings import Settings

BASE_THEME = "default"
MANIFEST = "theme.yaml"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
TOKEN_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# A token value goes into a stylesheet: no characters that could end the declaration,
# open a block or a comment, or leave the stylesheet.
TOKEN_VALUE_RE = re.compile(r"^[^;{}<>\\/*@]*$|^url\(\"?[a-z0-9./_-]+\"?\)$")


class ThemeManifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What ``theme.yaml`` holds."""

    name: str
    label: str
    parent: str | None = None
    description: str | None = None
    # A path inside the theme's static/ folder (inherited when missing).
    logo: str | None = None
    # Short text shown beside the logo (inherited when missing).
    brand: str | None = None
    # Design tokens: CSS custom properties without the leading "--".
    tokens: dict[str, str] = msgspec.field(default_factory=dict)


@dataclass(frozen=True)
class Theme:
    """A theme with its inheritance resolved."""

    name: str
    label: str
    description: str
    plugin: str
    folder: Path
    # This theme first, then its parent, ..., then default.
    chain: tuple[Path, ...]
    # The theme names along the chain: this theme, its parent, ..., default.
    lineage: tuple[str, ...] = ()
    tokens: dict[str, str] = field(default_factory=dict)
    logo: str | None = None
    brand: str = "Mentoring 4.0"

    @property
    def template_dirs(self) -> list[Path]:
        return [folder / "templates" for folder in self.chain if (folder / "templates").is_dir()]

    def static_file(self, path: str) -> Path | None:
        """The file ``path`` from this theme's static folders, nearest first; None if absent
        or if ``path`` would leave the folder."""
        if not path or path.startswith("/") or "\\" in path:
            return None
        parts = Path(path).parts
        if any(part in {"..", "."} or part.startswith(".") for part in parts):
            return None
        for folder in self.chain:
            candidate = folder / "static" / path
            # is_file(): regular files only (a named pipe would hang the response); and a
            # symbolic link must not lead out of the theme (it would serve any file).
            try:
                if candidate.is_file() and candidate.resolve().is_relative_to(folder.resolve()):
                    return candidate
            except OSError:  # a name longer than the file system allows, etc.: not ours
                return None
        return None

    def tokens_css(self) -> str:
        lines = [f"  --{name}: {value};" for name, value in sorted(self.tokens.items())]
        return (
            f"/* Design tokens of the theme {self.name!r} */\n:root {{\n"
            + "\n".join(lines)
            + "\n}\n"
        )

    def tokens_hash(self) -> str:
        return hashlib.sha256(self.tokens_css().encode()).hexdigest()[:12]


def theme_sources(registry: PluginRegistry, settings: Settings) -> list[tuple[str, Path]]:
    """(plugin, theme folder) from every ``themes`` hook, built-ins first."""
    return registry.paths("themes", "theme folders (each holding theme.yaml)", settings=settings)


def load_themes(sources: list[tuple[str, Path]]) -> tuple[dict[str, Theme], list[Problem]]:
    """Read every theme folder, check manifests and parents, resolve inheritance."""
    problems: list[Problem] = []
    manifests: dict[str, tuple[str, Path, ThemeManifest]] = {}
    roots: dict[str, Any] = {}
    for plugin, folder in sources:
        manifest_file = folder / MANIFEST
        shown = str(manifest_file)
        if not os.path.lexists(manifest_file):
            problems.append(
                Problem(file=str(folder), message=f"is not a theme folder: {MANIFEST} is missing")
            )
            continue
        read = read_yaml_file(manifest_file, folder, shown, ThemeManifest, problems)
        if read is None:
            continue
        manifest, root = read
        before = len(problems)
        _check_manifest(manifest, folder, root, shown, problems)
        _check_theme_files(folder, problems)
        if manifest.name in manifests:
            other = manifests[manifest.name][1]
            problems.append(
                Problem(
                    file=shown,
                    field="name",
                    line=line_of(root, ["name"], 0),
                    message=f"theme {manifest.name!r} is also defined in {other / MANIFEST}",
                )
            )
            continue
        if len(problems) == before:
            manifests[manifest.name] = (plugin, folder, manifest)
            roots[manifest.name] = root

    themes: dict[str, Theme] = {}
    # A broken parent is reported once, at the theme whose parent field names it.
    reported: set[str] = set()
    for name, (plugin, folder, manifest) in manifests.items():
        chain: list[tuple[Path, ThemeManifest]] = []
        current: str | None = name
        seen: list[str] = []
        while current is not None:
            if current in seen or current not in manifests:
                culprit = seen[-1]
                if current in seen:
                    loop = [*seen[seen.index(current) :], current]
                    key = " ".join(sorted(set(loop)))
                    message = f"parents form a loop: {' -> '.join(loop)}"
                else:
                    key = culprit
                    message = f"unknown parent theme {current!r}; themes: " + ", ".join(
                        sorted(manifests)
                    )
                if key not in reported:
                    reported.add(key)
                    problems.append(
                        Problem(
                            file=str(manifests[culprit][1] / MANIFEST),
                            field="parent",
                            line=line_of(roots[culprit], ["parent"], 0),
                            message=message,
                        )
                    )
                break
            seen.append(current)
            _, f, m = manifests[current]
            chain.append((f, m))
            current = (
                m.parent
                if m.parent is not None
                else (None if current == BASE_THEME else BASE_THEME)
            )
        else:
            tokens: dict[str, str] = {}
            for _, m in reversed(chain):
                tokens.update(m.tokens)
            logo = next((m.logo for _, m in chain if m.logo), None)
            brand = next((m.brand for _, m in chain if m.brand), "Mentoring 4.0")
            themes[name] = Theme(
                name=name,
                label=manifest.label,
                description=manifest.description or "",
                plugin=plugin,
                folder=folder,
                chain=tuple(f for f, _ in chain),
                lineage=tuple(m.name for _, m in chain),
                tokens=tokens,
                logo=logo,
                brand=brand,
            )
    if manifests and BASE_THEME not in manifests:
        problems.append(
            Problem(
                file="themes",
                message=f"no theme named {BASE_THEME!r}; every theme inherits from it",
            )
        )
    return themes, problems


def _check_theme_files(folder: Path, problems: list[Problem]) -> None:
    """Templates and static files are read when a page asks for them: a named pipe there
    would hang that request, and a symbolic link out of the theme would serve any file."""
    base = folder.resolve()
    for part in ("templates", "static"):
        for top, dirs, files in os.walk(folder / part):
            for name in [*dirs, *files]:
                path = Path(top) / name
                real = path.resolve()
                if not real.is_relative_to(base):
                    message = f"is a symbolic link to {real}, outside the theme folder {base}"
                elif name in files and not real.is_file():
                    message = "is not a regular file (a named pipe, a device or a broken link)"
                else:
                    continue
                problems.append(Problem(file=str(path), message=message))


def _check_manifest(
    manifest: ThemeManifest, folder: Path, root: Any, shown: str, problems: list[Problem]
) -> None:
    def problem(path: list[str | int], message: str) -> None:
        problems.append(
            Problem(
                file=shown,
                field=".".join(str(p) for p in path),
                line=line_of(root, path, 0),
                message=message,
            )
        )

    if not NAME_RE.match(manifest.name):
        problem(["name"], f"{manifest.name!r} is not a theme name (a-z, 0-9 and -, 2 to 40)")
    if manifest.parent == manifest.name:
        problem(["parent"], "a theme cannot be its own parent")
    if manifest.logo is not None and not (folder / "static" / manifest.logo).is_file():
        problem(["logo"], f"no file static/{manifest.logo} in the theme folder")
    for token, value in manifest.tokens.items():
        if not TOKEN_NAME_RE.match(token):
            problem(["tokens", token], f"{token!r} is not a token name (a-z, 0-9 and -)")
        elif not TOKEN_VALUE_RE.match(value.strip()) or not value.strip():
            problem(
                ["tokens", token],
                f"{value!r} cannot be used as a CSS value here (no ; {{ }} < > \\ / * @)",
            )
