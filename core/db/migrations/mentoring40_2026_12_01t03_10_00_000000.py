from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T03:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "entry.search_terms: words to find an entry by, never shown (existing rows: [])"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mentoring40", description=DESCRIPTION
    )

    # NOT NULL with a default: rows stored before the field existed get an empty list,
    # on SQLite and PostgreSQL alike; their content hash stays valid (an empty list is
    # left out of it, core.content.loader).
    manager.add_column(
        table_class_name="Entry",
        tablename="entry",
        column_name="search_terms",
        db_column_name="search_terms",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": "[]",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
