"""Migrations from empty give exactly the models' schema, on every backend."""
from alembic import autogenerate
from alembic import migration as alembic_migration
import sqlalchemy as sa

from blazar import context as blazar_context
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


# Upstream Blazar 18's floating-IP tables as its migrations leave them (after
# the conversion pointed their keys at the new reservations table): no
# cascades to floatingips, timestamps nullable, an unnamed unique constraint.
_UPSTREAM_FIP_DDL = (
    'CREATE TABLE floatingips (id VARCHAR(36) NOT NULL PRIMARY KEY, '
    'created_at DATETIME, updated_at DATETIME, '
    'floating_network_id VARCHAR(255) NOT NULL, subnet_id VARCHAR(255) NOT NULL, '
    'floating_ip_address VARCHAR(255) NOT NULL, reservable BOOLEAN NOT NULL, '
    'UNIQUE (subnet_id, floating_ip_address))',
    'CREATE TABLE floatingip_reservations (id VARCHAR(36) NOT NULL PRIMARY KEY, '
    'created_at DATETIME, updated_at DATETIME, reservation_id VARCHAR(36), '
    'network_id VARCHAR(255) NOT NULL, amount INTEGER NOT NULL, '
    'FOREIGN KEY (reservation_id) REFERENCES reservations (id) ON DELETE CASCADE)',
    'CREATE TABLE required_floatingips (id VARCHAR(36) NOT NULL PRIMARY KEY, '
    'created_at DATETIME, updated_at DATETIME, address VARCHAR(255) NOT NULL, '
    'floatingip_reservation_id VARCHAR(36), FOREIGN KEY (floatingip_reservation_id) '
    'REFERENCES floatingip_reservations (id) ON DELETE CASCADE)',
    'CREATE TABLE floatingip_allocations (id VARCHAR(36) NOT NULL PRIMARY KEY, '
    'created_at DATETIME, updated_at DATETIME, floatingip_id VARCHAR(36), '
    'reservation_id VARCHAR(36), '
    'FOREIGN KEY (floatingip_id) REFERENCES floatingips (id), '
    'FOREIGN KEY (reservation_id) REFERENCES reservations (id) ON DELETE CASCADE)',
)


def test_upstream_floating_ip_tables_are_rebuilt_with_their_rows(database):
    """A converted upstream database reaches 0008 with upstream's four
    floating-IP tables: they come out in the models' shape, rows kept."""
    import datetime
    migration.downgrade('base')
    migration.upgrade('0006')
    engine = db_api.get_engine()
    created = datetime.datetime(2030, 1, 1, 12, 0)
    ddl = [s.replace('DATETIME', 'TIMESTAMP') if database.backend == 'postgresql' else s
           for s in _UPSTREAM_FIP_DDL]
    with engine.begin() as conn:
        for statement in ddl:
            conn.execute(sa.text(statement))
        conn.execute(sa.text(
            "INSERT INTO leases (id, name, start_date, end_date, status, degraded, "
            "created_at) VALUES ('l1', 'l1', :t, :t, 'TERMINATED', false, :t)"),
            {'t': created})
        conn.execute(sa.text(
            "INSERT INTO reservations (id, lease_id, resource_type, status, "
            "missing_resources, resources_changed, created_at) VALUES "
            "('r1', 'l1', 'virtual:floatingip', 'deleted', false, false, :t)"),
            {'t': created})
        conn.execute(sa.text(
            "INSERT INTO floatingips VALUES ('f1', :t, NULL, 'net', 'sub', "
            "'172.24.4.100', true)"), {'t': created})
        conn.execute(sa.text(
            "INSERT INTO floatingip_reservations VALUES ('fr1', NULL, NULL, 'r1', 'net', 1)"))
        conn.execute(sa.text(
            "INSERT INTO required_floatingips VALUES ('q1', NULL, NULL, '172.24.4.100', "
            "'fr1')"))
        conn.execute(sa.text(
            "INSERT INTO floatingip_allocations VALUES ('a1', :t, NULL, 'f1', 'r1')"),
            {'t': created})
    migration.upgrade('head')
    assert _differences() == []
    assert migration.check_schema() == []
    with engine.connect() as conn:
        fips = models.FloatingIP.__table__
        assert conn.execute(sa.select(fips.c.id, fips.c.created_at,
                                      fips.c.floating_ip_address, fips.c.reservable)
                            ).all() == [('f1', created, '172.24.4.100', True)]
        assert conn.execute(sa.text(
            'SELECT reservation_id, amount FROM floatingip_reservations')).all() == [
            ('r1', 1)]
        assert conn.execute(sa.text('SELECT address FROM required_floatingips')).all() == [
            ('172.24.4.100',)]
        assert conn.execute(sa.text(
            'SELECT floatingip_id, reservation_id FROM floatingip_allocations')).all() == [
            ('f1', 'r1')]
        tables = set(sa.inspect(conn).get_table_names())
    assert not {t for t in tables if t.startswith('upstream18_')}


def test_intents_stored_before_0012_count_as_touched(database):
    """A manager may have made their objects already: their absence goes
    through the converger, never dropped unlooked."""
    migration.downgrade('0011')
    with db_api.get_engine().begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO cloud_intents (reservation_id, lease_id, resource_type, phase, "
            "spec, generation, converged_generation, progress, observed, attempts, "
            "created_at) VALUES ('r1', 'l1', 'physical:host', 'reserved', '{}', 1, 1, "
            "'[]', '{}', 0, '2026-12-01 10:00:00')"))
    migration.upgrade('head')
    with db_api.get_engine().connect() as conn:
        touched = conn.execute(sa.text(
            "SELECT touched_at FROM cloud_intents WHERE reservation_id = 'r1'")).scalar()
    assert str(touched).startswith('2026-12-01 10:00:00')


def test_calendar_changes_logged_before_0013_count_as_host_row_changes(database):
    """A manager catching up over them reloads the hosts' rows, as it did:
    only a change logged as touching allocations alone skips them."""
    migration.downgrade('0012')
    with db_api.get_engine().begin() as conn:
        # Alone in the log (the store may hold earlier tests' changes).
        conn.execute(sa.text("DELETE FROM calendar_changes"))
        conn.execute(sa.text(
            "INSERT INTO calendar_changes (generation, host_id) VALUES (7, 3)"))
    migration.upgrade('head')
    ctx = blazar_context.get_admin_context()
    touched, rows_changed, newest = db_api.calendar_delta(ctx, 7)
    assert (touched, rows_changed, newest) == ({3}, {3}, 7)
