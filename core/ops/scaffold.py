"""``mentoring40 plugins new``: write a ready region plugin from the template in
``region_template/`` (files ending ``.tmpl`` are ``string.Template`` texts; ``PACKAGE`` and
``NAME`` in paths become the package and the region's name).

Nothing is half-written: the plugin is assembled in a temporary folder beside the
target and moved into place in one rename; every refusal happens before anything is
written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from string import Template

import yaml
from packaging.version import InvalidVersion, Version

from core import PROJECT_NAME, __version__

TEMPLATE_DIR = Path(__file__).parent / "region_template"
# A region's name is its entry point, content source, theme and site id at once: the
# narrowest of their rules (slug, theme name, site id), and short.
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
NAME_MAX = 30
# The label is written into YAML, TOML and Python strings unquoted or in double quotes:
# letters (umlauts too), digits, spaces and a few punctuation marks that none of them
# treats specially there.
LABEL_RE = re.compile(r"^[^\W_][\w .,()&'–-]*$")
# Names the core uses itself.
RESERVED = {"core", "default", "builtin", "werkzeugkasten", "musterverband", PROJECT_NAME}
# Colours go into a stylesheet: only #rgb or #rrggbb, nothing that could end a declaration.
COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# White text on the primary and the accent colour must reach WCAG AA for normal text.
MIN_CONTRAST = 4.5
DEFAULT_PRIMARY = "#1f5f8b"
DEFAULT_ACCENT = "#0b6e4f"


class ScaffoldError(ValueError):
    """The plugin cannot be written; the message says why and what to change."""


@dataclass(frozen=True)
class Region:
    name: str
    label: str
    primary: str
    accent: str

    @property
    def package(self) -> str:
        return f"mentoring40_{self.name.replace('-', '_')}"

    @property
    def distribution(self) -> str:
        return f"mentoring40-{self.name}"

    @property
    def example_entry(self) -> str:
        return f"{self.name}-beispiel-erstes-lotsentreffen"


def check_region(name: str, label: str, primary: str, accent: str) -> Region:
    """The region, or ScaffoldError naming what is wrong with the input."""
    if not NAME_RE.match(name) or not 2 <= len(name) <= NAME_MAX:
        raise ScaffoldError(
            f"{name!r} is not a region name: use 2 to {NAME_MAX} lowercase letters, digits and "
            "single hyphens, starting with a letter (e.g. 'sachsen' or 'rhein-main')."
        )
    if name in RESERVED:
        raise ScaffoldError(f"{name!r} is a name mentoring40 uses itself; choose another.")
    installed = {ep.name for ep in entry_points(group=PROJECT_NAME)}
    if name in installed:
        raise ScaffoldError(
            f"a plugin named {name!r} is already installed (`mentoring40 plugins` lists it); "
            "choose another name."
        )
    label = " ".join(label.split())
    if not LABEL_RE.match(label) or len(label) > 80:
        raise ScaffoldError(
            f"the label {label!r} must be 1 to 80 letters, digits, spaces and . , ( ) & ' – -, "
            "starting with a letter or digit (it goes into YAML, TOML and Python files)."
        )
    colours = {"--primary": primary, "--accent": accent}
    for option, colour in colours.items():
        if not COLOUR_RE.match(colour):
            raise ScaffoldError(
                f"{option} {colour!r} is not a colour we accept: write it as #rrggbb "
                "(e.g. #00632e); nothing else can go into the theme's stylesheet."
            )
        ratio = contrast_with_white(colour)
        if ratio < MIN_CONTRAST:
            raise ScaffoldError(
                f"{option} {colour}: white text on it has a contrast of {ratio:.1f}:1, below "
                f"the {MIN_CONTRAST}:1 that readable pages need; choose a darker colour."
            )
    return Region(name=name, label=label, primary=primary.lower(), accent=accent.lower())


def contrast_with_white(colour: str) -> float:
    """The WCAG 2.1 contrast ratio of white text on ``colour`` (#rgb or #rrggbb)."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


THEME_FILES = ("theme.yaml", "static/theme.css")
LOGO_FILE = "logo.png"


def theme_files(region: Region, *, logo: bytes | None = None) -> dict[str, bytes]:
    """The region's theme folder (path inside it -> bytes), rendered from the same template
    files as a scaffolded plugin's theme: a region made in the editor is served from
    exactly these files and exported as them. ``logo``: PNG bytes (already checked)."""
    values = {"name": region.name, "label": region.label, "primary": region.primary,
              "accent": region.accent}  # fmt: skip
    files: dict[str, bytes] = {}
    for relative in THEME_FILES:
        source = TEMPLATE_DIR / "src" / "PACKAGE" / "theme" / f"{relative}.tmpl"
        text = Template(source.read_text(encoding="utf-8")).substitute(values)
        if relative == "theme.yaml" and logo is not None:
            text += f"logo: {LOGO_FILE}\n"
        files[relative] = text.encode("utf-8")
    if logo is not None:
        files[f"static/{LOGO_FILE}"] = logo
    return files


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def supported_versions(engine: str = __version__) -> str:
    """The specifier a new plugin states: this engine's minor series (0.1 -> >=0.1,<0.2)."""
    try:
        version = Version(engine)
    except InvalidVersion:
        return ">=0.1"
    if version.local == "unknown":
        return ">=0.1"
    major, minor = version.major, version.minor
    upper = f"{major},<{major + 1}" if major > 0 else f"0.{minor},<0.{minor + 1}"
    return f">={upper}"


# What an exported region (``content export --pack``) brings: the package's folders.
PACK_PARTS = ("content", "theme", "sites")
FROM_PACK_TEST = Path(__file__).parent / "from_pack_test.py.tmpl"


def region_of_pack(name: str, folder: Path) -> Region:
    """The region an exported pack folder describes (name, label and colours from its
    ``theme/theme.yaml``), checked as ``plugins new`` checks its options."""
    manifest = folder / "theme" / "theme.yaml"
    if not (folder / "content" / "entries").is_dir() or not manifest.is_file():
        raise ScaffoldError(
            f"{folder} is not an exported region: it needs content/entries/ and "
            "theme/theme.yaml, as `mentoring40 content export --pack NAME --to DIR` writes "
            "them for a region made in the editor (nothing was written)."
        )
    try:
        theme = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        tokens = theme["tokens"]
        exported, label = str(theme["name"]), str(theme["label"])
        primary, accent = str(tokens["color-primary"]), str(tokens["color-accent"])
    except (yaml.YAMLError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ScaffoldError(
            f"{manifest} lacks the region's name, label or colours ({exc}); export the region "
            "again (nothing was written)."
        ) from None
    if exported != name:
        raise ScaffoldError(
            f"{folder} is the region {exported!r}: its pack, theme and site carry that name, so "
            f"the plugin must too (`mentoring40 plugins new {exported} --from-pack {folder}`)."
        )
    return check_region(name, label, primary, accent)


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` (same file system; the caller has checked that
    ``target`` is new or empty) to write into: moved into place with one rename when the
    block ends, removed when it fails, so nothing is ever half-written."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
        mask = os.umask(0)
        os.umask(mask)
        staging.chmod(0o777 & ~mask)  # mkdtemp made it private; the result is not
        if target.exists():
            target.rmdir()  # empty, checked by the caller; the rename needs it gone
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_region_plugin(
    region: Region, target: Path, today: dt.date | None = None, *, from_pack: Path | None = None
) -> list[Path]:
    """Write the plugin into ``target`` (new or empty); return the files written. With
    ``from_pack`` (an exported region, see ``region_of_pack``) its content, theme and sites
    replace the template's example ones, and the test checks the region's own entries."""
    target = target.absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(
            f"{target} is not an empty folder; give a new folder with --into (nothing was written)."
        )
    if not target.parent.is_dir():
        raise ScaffoldError(f"the folder {target.parent} does not exist (nothing was written).")
    values = {
        "name": region.name,
        "label": region.label,
        "package": region.package,
        "distribution": region.distribution,
        "primary": region.primary,
        "accent": region.accent,
        "entry": region.example_entry,
        "versions": supported_versions(),
        "today": (today or dt.datetime.now(dt.UTC).date()).isoformat(),
        "pack_note": "; one example to replace" if from_pack is None else "",
        # The editor keeps no search vocabulary: an exported region brings none.
        "vocabulary": (
            "words people in the region use for the same thing"
            if from_pack is None or (from_pack / "content" / "search").is_dir()
            else "none yet (the editor keeps none): add a file in the format of "
            "mentoring40's `content/search/` for the region's own words"
        ),
        "before_live": (
            "Before the region goes live: replace the example entry\n"
            f"(`content/entries/{region.example_entry}.md`), add the origins\n"
            f"of the websites that embed the site to `sites/{region.name}.yaml`, and check the\n"
            "colours in `theme/theme.yaml`."
            if from_pack is None
            else "Made with `--from-pack` from the region as it was in the editor\n"
            "(`content export --pack`): its entries, theme, logo and partner sites.\n"
            "Entries written in the browser keep their editorial history; see\n"
            '`docs/PLUGINS.md` of mentoring40 ("From a region made in the editor").'
        ),
    }
    written: list[Path] = []
    with staged_folder(target) as staging:
        for source in sorted(TEMPLATE_DIR.rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts:
                continue
            relative = source.relative_to(TEMPLATE_DIR).as_posix()
            if from_pack is not None and relative.split("/")[2:3] in ([p] for p in PACK_PARTS):
                continue  # src/PACKAGE/<part>/…: the exported pack's own files instead
            relative = relative.replace("PACKAGE", region.package).replace("NAME", region.name)
            if from_pack is not None and relative.startswith("tests/test_"):
                source = FROM_PACK_TEST
            text = source.read_text(encoding="utf-8")
            if relative.endswith(".tmpl"):
                relative = relative.removesuffix(".tmpl")
                text = Template(text).substitute(values)
            out = staging / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
            written.append(target / relative)
        if from_pack is not None:
            package = staging / "src" / region.package
            for part in PACK_PARTS:
                if (from_pack / part).is_dir():
                    shutil.copytree(from_pack / part, package / part, symlinks=False)
            written += [
                target / path.relative_to(staging)
                for path in sorted(package.rglob("*"))
                if path.is_file() and path.relative_to(package).parts[0] in PACK_PARTS
            ]
    return written
