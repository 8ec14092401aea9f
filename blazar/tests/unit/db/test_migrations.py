"""Migrations from empty give exactly the models' schema, on every backend."""
from alembic import autogenerate
from alembic import migration as alembic_migration
import sqlalchemy as sa

from blazar.db import api as db_api
from blazar.db import migration
from blazar.db import models


def _differences():
    with db_api.get_engine().connect() as conn:
        context = alembic_migration.MigrationContext.configure(
            conn, opts={'compare_type': True, 'compare_server_default': False})
        return autogenerate.compare_metadata(context, models.Base.metadata)


def test_schema_at_head_matches_the_models(database):
    assert migration.current_revision() == migration.head_revision()
    assert _differences() == []


def test_downgrade_to_empty_and_back(database):
    migration.downgrade('base')
    tables = set(sa.inspect(db_api.get_engine()).get_table_names())
    assert tables <= {'alembic_version'}
    migration.upgrade('head')
    assert _differences() == []
    with db_api.get_engine().connect() as conn:
        assert conn.execute(sa.text(
            "SELECT generation FROM allocation_locks WHERE name = 'compute'")).scalar() == 0
