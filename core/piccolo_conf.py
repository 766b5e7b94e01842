"""Piccolo's configuration module (PICCOLO_CONF=core.piccolo_conf).

``DB`` starts from DATABASE_URL so that Piccolo's own CLI works
(``piccolo migrations new mentoring40 --auto``); the app and tests replace it
through ``core.db.engine.use_engine``.
"""

from piccolo.conf.apps import AppRegistry

from core.db.engine import engine_from_url
from core.settings import Settings

DB = engine_from_url(Settings.from_env().database_url)

APP_REGISTRY = AppRegistry(apps=["core.db.piccolo_app"])
