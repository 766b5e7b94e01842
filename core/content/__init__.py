"""Content: the model, loading and validation of content packs, rendering and sync."""

from core.content.loader import load_content
from core.content.model import ContentPack, ContentSet, Entry, Problem

__all__ = ["ContentPack", "ContentSet", "Entry", "Problem", "load_content"]
