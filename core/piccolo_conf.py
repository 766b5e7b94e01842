"""Piccolo's configuration module (PICCOLO_CONF=core.piccolo_conf).

The app and the tests set ``DB`` through ``core.db.engine.use_engine``. Only when
nothing has (Piccolo's own CLI, e.g. ``piccolo migrations new mentoring40 --auto``)
is it built from DATABASE_URL, on first access, so importing this module never
opens a database connection by itself.
"""

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["core.db.piccolo_app"])


def __getattr__(name: str) -> Any:
    if name == "DB":
        from core.db.engine import engine_from_url
        from core.settings import Settings

        engine = engine_from_url(Settings.from_env().database_url)
        globals()["DB"] = engine
        return engine
    raise AttributeError(name)
