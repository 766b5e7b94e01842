"""Collect content packs from every plugin (the core's own pack is a built-in plugin)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from core.content.model import ContentPack
from core.plugins import PluginError, PluginRegistry
from core.settings import Settings


def collect_packs(registry: PluginRegistry, settings: Settings) -> list[ContentPack]:
    """All content packs: built-in plugins' first, then installed plugins' by name."""
    collected: list[tuple[bool, str, ContentPack]] = []
    for plugin, packs in registry.call("content_packs", settings=settings):
        builtin = registry.infos[plugin].builtin if plugin in registry.infos else False
        for raw in packs if isinstance(packs, list | tuple) else [packs]:
            collected.append((not builtin, plugin, _as_pack(plugin, raw)))
    collected.sort(key=lambda item: (item[0], item[1]))
    return [pack for _, _, pack in collected]


def _as_pack(plugin: str, raw: object) -> ContentPack:
    if isinstance(raw, ContentPack):
        return raw
    try:
        return msgspec.convert(raw, ContentPack, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        raise PluginError(
            f"Plugin {plugin!r} returned an invalid content pack from hook 'content_packs': {exc}; "
            "expected a ContentPack or a mapping with name, path and optionally label."
        ) from exc


def _decode_path(type_: type, obj: object) -> object:
    if type_ is Path and isinstance(obj, str | Path):
        return Path(obj)
    raise NotImplementedError
