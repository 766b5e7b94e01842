"""The plugin manager: built-in plugins, installed plugins and safe hook calls.

Every failure while loading a plugin or running one of its hooks surfaces as a
``PluginError`` whose message names the plugin, the hook and the cause: startup
stops rather than running half-loaded.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from core import PROJECT_NAME, __version__, hookspecs
from core.settings import Settings

# A plugin module states the mentoring40 versions it works with in this attribute, a
# version specifier such as ">=0.1,<0.2" (PEP 440). Checked when the plugin is registered.
VERSIONS_ATTRIBUTE = "MENTORING40_VERSIONS"

# Built-in behaviour, registered on the same hooks third parties use. Each is a
# module of hook implementations; they are named "core.<last part>".
DEFAULT_PLUGINS: tuple[str, ...] = ("core.builtin.content", "core.builtin.web", "core.builtin.api")


class PluginError(RuntimeError):
    """A plugin failed to load or one of its hooks raised."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    builtin: bool
    distribution: str
    version: str
    hooks: tuple[str, ...]
    module: str
    # The engine versions the plugin says it supports ("" if it says nothing).
    supports: str = ""


@dataclass
class PluginRegistry:
    """A plugin manager plus what we know about each plugin (for ``mentoring40 plugins``)."""

    manager: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)
    # Installed plugins left out by MENTORING40_LOAD_PLUGINS, shown so nobody wonders.
    disabled: list[str] = field(default_factory=list)

    def register(
        self,
        plugin: object,
        name: str,
        *,
        distribution: str = "",
        version: str = "",
        builtin: bool = False,
    ) -> None:
        """Register ``plugin`` under ``name``; raise PluginError if its hooks do not fit or
        it does not support this engine version (``MENTORING40_VERSIONS``)."""
        supports = "" if builtin else check_compatible(plugin, name, distribution, version)
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
            _refuse_wrappers(self.manager, plugin, name)
        except (pluggy.PluginValidationError, ValueError, PluginError) as exc:
            if self.manager.is_registered(plugin):
                self.manager.unregister(plugin)
            if isinstance(exc, PluginError):
                raise
            raise PluginError(f"Plugin {name!r} cannot be registered: {exc}") from exc
        hooks = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or []))
        module = getattr(plugin, "__name__", type(plugin).__module__)
        self.infos[name] = PluginInfo(
            name=name,
            builtin=builtin,
            distribution=distribution or PROJECT_NAME,
            version=version or __version__,
            hooks=hooks,
            module=module,
            supports=supports,
        )

    def plugins(self) -> list[PluginInfo]:
        """All registered plugins, built-ins first, then by name."""
        return sorted(self.infos.values(), key=lambda p: (not p.builtin, p.name))

    def call(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of ``hook_name``; return ``(plugin name, result)`` pairs.

        Results are in pluggy's call order (last registered first, ``tryfirst``/
        ``trylast`` respected); ``None`` results are dropped. A raising hook becomes a
        PluginError naming the plugin and hook. We run the implementations ourselves,
        not through pluggy's caller, because pluggy's results carry no plugin name;
        wrapper implementations, which only pluggy's caller would run, are refused at
        registration (``_refuse_wrappers``).
        """
        caller = getattr(self.manager.hook, hook_name)
        results: list[tuple[str, Any]] = []
        # get_hookimpls() is in reverse call order: pluggy runs the list from the end.
        for impl in reversed(caller.get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
            try:
                result = impl.function(**args)
            except Exception as exc:
                raise PluginError(
                    f"Plugin {impl.plugin_name!r} failed in hook {hook_name!r}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    async def acall(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like ``call``, but awaits results that are awaitable (for async hooks)."""
        resolved: list[tuple[str, Any]] = []
        for name, result in self.call(hook_name, **kwargs):
            if inspect.isawaitable(result):
                try:
                    result = await _await(result)
                except Exception as exc:
                    raise PluginError(
                        f"Plugin {name!r} failed in hook {hook_name!r}: {type(exc).__name__}: {exc}"
                    ) from exc
            if result is not None:
                resolved.append((name, result))
        return resolved

    def paths(self, hook_name: str, expected: str, **kwargs: Any) -> list[tuple[str, Path]]:
        """(plugin, path) from every implementation of a hook that returns paths (or one
        path), built-in plugins first, then by plugin name. Anything but a path is a
        PluginError saying what was ``expected``."""
        found: list[tuple[bool, str, Path]] = []
        for plugin, paths in self.call(hook_name, **kwargs):
            builtin = self.infos[plugin].builtin if plugin in self.infos else False
            for raw in paths if isinstance(paths, list | tuple) else [paths]:
                if not isinstance(raw, str | Path):
                    raise PluginError(
                        f"Plugin {plugin!r} returned {raw!r} from hook {hook_name!r}; "
                        f"expected {expected}."
                    )
                found.append((not builtin, plugin, Path(raw)))
        found.sort(key=lambda s: (s[0], s[1]))
        return [(plugin, path) for _, plugin, path in found]


def check_compatible(
    plugin: object, name: str, distribution: str = "", version: str = "", engine: str = ""
) -> str:
    """The plugin's ``MENTORING40_VERSIONS`` ("" if absent); PluginError if it is not a
    version specifier or does not include the running engine's version (``engine``,
    default ``core.__version__``)."""
    stated = getattr(plugin, VERSIONS_ATTRIBUTE, None)
    if stated is None:
        return ""
    who = f"Plugin {name!r}" + (f" ({distribution} {version})" if distribution else "")
    try:
        wanted = SpecifierSet(str(stated))
    except InvalidSpecifier:
        raise PluginError(
            f"{who} states {VERSIONS_ATTRIBUTE} = {stated!r}, which is not a version "
            "specifier; write e.g. '>=0.1,<0.2'."
        ) from None
    running = engine or __version__
    try:
        parsed = Version(running)
    except InvalidVersion:
        parsed = None
    if parsed is None or parsed.local == "unknown":  # a source tree never installed
        return str(wanted)
    if not wanted.contains(parsed, prereleases=True):
        raise PluginError(
            f"{who} supports mentoring40 {wanted}, but this is mentoring40 {running}; "
            f"install a version of the plugin made for mentoring40 {running}, or a "
            f"mentoring40 within {wanted}."
        )
    return str(wanted)


def _refuse_wrappers(manager: pluggy.PluginManager, plugin: object, name: str) -> None:
    """``call`` runs each implementation itself (to name the plugin behind every result
    and every failure), so pluggy's wrappers would silently never run: refuse them here,
    where the plugin author sees it, instead of ignoring them at call time."""
    for caller in manager.get_hookcallers(plugin) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                kind = "hookwrapper=True" if impl.hookwrapper else "wrapper=True"
                raise PluginError(
                    f"Plugin {name!r} cannot be registered: its implementation of hook "
                    f"{caller.name!r} is marked {kind}, which mentoring40 does not support. "
                    "Hooks return values that the core collects; drop the marker and "
                    "return your contribution (use tryfirst/trylast for ordering)."
                )


async def _await(value: Awaitable[Any]) -> Any:
    return await value


def new_registry() -> PluginRegistry:
    """A plugin manager with our hookspecs and nothing registered (what tests start from)."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return PluginRegistry(manager=manager)


def build_registry(settings: Settings, *, load_installed: bool = True) -> PluginRegistry:
    """The built-in plugins plus every installed plugin that settings allow."""
    registry = new_registry()
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        registry.register(module, name=f"core.{module_name.rsplit('.', 1)[-1]}", builtin=True)
    if load_installed:
        _load_installed(registry, settings)
    return registry


def _load_installed(registry: PluginRegistry, settings: Settings) -> None:
    found = list(entry_points(group=PROJECT_NAME))
    wanted = settings.load_plugins
    if wanted is not None:
        unknown = sorted(set(wanted) - {ep.name for ep in found})
        if unknown:
            installed = ", ".join(sorted(ep.name for ep in found)) or "none"
            raise PluginError(
                f"MENTORING40_LOAD_PLUGINS names {', '.join(map(repr, unknown))}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not installed; installed plugins: "
                f"{installed}."
            )
    for ep in sorted(found, key=lambda ep: ep.name):
        if wanted is not None and ep.name not in wanted:
            registry.disabled.append(ep.name)
            continue
        plugin = _import_entry_point(ep)
        dist = ep.dist
        registry.register(
            plugin,
            name=ep.name,
            distribution=dist.name if dist else ep.value,
            version=dist.version if dist else "unknown",
        )


def _import_entry_point(ep: EntryPoint) -> object:
    try:
        return ep.load()
    except Exception as exc:
        dist = f" from distribution {ep.dist.name} {ep.dist.version}" if ep.dist else ""
        raise PluginError(
            f"Plugin {ep.name!r}{dist} failed to import ({ep.value}): {type(exc).__name__}: {exc}"
        ) from exc
