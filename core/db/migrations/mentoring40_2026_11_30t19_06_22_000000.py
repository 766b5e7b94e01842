from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-30T19:06:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "Summaries for the runs answered before run_group_summary existed"

# Existing responses get their groups' rows, marked stale (definition_hash ""): the
# dashboard computes them on first use, with the published definitions and the k in force.
BACKFILL = (
    "INSERT INTO run_group_summary "
    "(key, run, phase, perspective, version, definition_hash, min_group, means, rankings) "
    "SELECT CAST(run AS TEXT) || '/' || phase || '/' || g.perspective, run, phase, "
    "g.perspective, 0, '', 0, NULL, NULL FROM (SELECT run, phase, CASE WHEN phase = "
    "'feedback' THEN 'feedback' ELSE perspective END AS perspective FROM run_response) g "
    "GROUP BY run, phase, g.perspective"
)


async def backfill() -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(BACKFILL)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mentoring40", description=DESCRIPTION
    )
    # Separate from the migration that creates the table: Piccolo runs a migration's
    # raw steps before its table changes.
    manager.add_raw(backfill)
    return manager
