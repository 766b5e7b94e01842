"""mentoring40 core: settings, plugin engine, content model, storage and the JSON API.

A plugin needs nothing from here but the marker, and may even build it itself:
``hookimpl = pluggy.HookimplMarker("mentoring40")``.
"""

from importlib.metadata import PackageNotFoundError, version

PROJECT_NAME = "mentoring40"

# The marker lives beside the hook specifications; re-exported for plugins that
# already write ``from core import hookimpl``.
from core.hookspecs import hookimpl  # noqa: E402  (needs PROJECT_NAME above)

try:
    __version__ = version(PROJECT_NAME)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
