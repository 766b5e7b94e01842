"""Storage with Piccolo: tables, engine selection from DATABASE_URL, migrations."""

import os

# Piccolo's migration machinery finds the engine through this module (piccolo_conf.DB);
# core.db.engine.use_engine() keeps it pointed at the engine in use.
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
