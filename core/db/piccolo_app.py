"""The Piccolo app holding mentoring40's tables and their migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.db.tables import TABLES

APP_NAME = "mentoring40"

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)
