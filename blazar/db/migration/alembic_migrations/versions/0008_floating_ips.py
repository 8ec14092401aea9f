"""Floating IPs: the addresses leases may reserve, floating-IP reservations,
their required addresses and allocations.

The tables keep upstream Blazar's names and columns. A database converted
from upstream Blazar (blazar/db/migration/upstream.py) already holds them,
in upstream's shape: they are rebuilt in this service's shape (the same
columns, with its keys and indexes) and their rows copied over, so that a
converted database and a new one have the same schema. Should that stop
half-way on MySQL/MariaDB (which commit each schema change), the rows are
still in the ``upstream18_`` tables and running the upgrade again resumes.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PREFIX = 'upstream18_'
# Parents first.
TABLES = ('floatingips', 'floatingip_reservations', 'required_floatingips',
          'floatingip_allocations')
COLUMNS = {
    'floatingips': ('id', 'floating_network_id', 'subnet_id', 'floating_ip_address',
                    'reservable', 'created_at', 'updated_at'),
    'floatingip_reservations': ('id', 'reservation_id', 'network_id', 'amount',
                                'created_at', 'updated_at'),
    'required_floatingips': ('id', 'address', 'floatingip_reservation_id',
                             'created_at', 'updated_at'),
    'floatingip_allocations': ('id', 'floatingip_id', 'reservation_id',
                               'created_at', 'updated_at'),
}


def _timestamps():
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime)]


def _create():
    op.create_table(
        'floatingips',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('floating_network_id', sa.String(255), nullable=False),
        sa.Column('subnet_id', sa.String(255), nullable=False),
        sa.Column('floating_ip_address', sa.String(255), nullable=False),
        sa.Column('reservable', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('subnet_id', 'floating_ip_address',
                            name='uq_floatingips_subnet_address'))
    op.create_index('ix_floatingips_network', 'floatingips', ['floating_network_id'])
    op.create_table(
        'floatingip_reservations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('reservation_id', sa.String(36),
                  sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                  nullable=False, unique=True),
        sa.Column('network_id', sa.String(255), nullable=False),
        sa.Column('amount', sa.Integer, nullable=False),
        *_timestamps())
    op.create_table(
        'required_floatingips',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('address', sa.String(255), nullable=False),
        sa.Column('floatingip_reservation_id', sa.String(36),
                  sa.ForeignKey('floatingip_reservations.id', ondelete='CASCADE'),
                  nullable=False),
        *_timestamps())
    op.create_table(
        'floatingip_allocations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('floatingip_id', sa.String(36), sa.ForeignKey('floatingips.id'),
                  nullable=False),
        sa.Column('reservation_id', sa.String(36),
                  sa.ForeignKey('reservations.id', ondelete='CASCADE'),
                  nullable=False),
        *_timestamps())
    op.create_index('ix_floatingip_allocations_fip', 'floatingip_allocations',
                    ['floatingip_id'])
    op.create_index('ix_floatingip_allocations_reservation', 'floatingip_allocations',
                    ['reservation_id'])


def _drop(tables):
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name in reversed(TABLES):
        if tables[name] in present:
            op.drop_table(tables[name])


def _set_aside(connection):
    """Upstream's tables renamed ``upstream18_<name>`` (once); on
    PostgreSQL their constraints and indexes too, whose names share one
    namespace per schema."""
    from blazar.db.migration import upstream
    present = set(sa.inspect(connection).get_table_names())
    for name in TABLES:
        if name in present and PREFIX + name not in present:
            op.rename_table(name, PREFIX + name)
            if connection.dialect.name == 'postgresql':
                upstream._rename_pg_constraints(connection, PREFIX + name)


def _copy(connection):
    """Upstream's rows into the new tables, as they are (a missing
    timestamp becomes the time of the upgrade, as the new table needs one);
    rows whose parent is gone (upstream had no cascades) are left out."""
    metadata = sa.MetaData()
    metadata.reflect(bind=connection, only=[PREFIX + n for n in TABLES] + list(TABLES))
    now = sa.func.now()
    kept = {'floatingips': set(), 'floatingip_reservations': set()}
    for name in TABLES:
        source, target = metadata.tables[PREFIX + name], metadata.tables[name]
        columns = [c for c in COLUMNS[name] if c in source.c]
        rows = [dict(r._mapping) for r in connection.execute(sa.select(
            *[source.c[c] for c in columns]))]
        if name == 'floatingip_reservations':
            reservations = set(connection.scalars(sa.text('SELECT id FROM reservations')))
            rows = [r for r in rows if r['reservation_id'] in reservations]
        elif name == 'required_floatingips':
            rows = [r for r in rows
                    if r['floatingip_reservation_id'] in kept['floatingip_reservations']]
        elif name == 'floatingip_allocations':
            reservations = set(connection.scalars(sa.text('SELECT id FROM reservations')))
            rows = [r for r in rows if r['reservation_id'] in reservations
                    and r['floatingip_id'] in kept['floatingips']]
        if name in kept:
            kept[name] = {r['id'] for r in rows}
        for row in rows:
            if row.get('created_at') is None:
                row['created_at'] = connection.scalar(sa.select(now))
            if name == 'floatingips' and row.get('reservable') is None:
                row['reservable'] = True
        if rows:
            connection.execute(target.insert(), rows)


def upgrade():
    connection = op.get_bind()
    present = set(sa.inspect(connection).get_table_names())
    set_aside = [name for name in TABLES if PREFIX + name in present]
    if set_aside and len(set_aside) < len(TABLES):
        # A run stopped while dropping upstream's tables: the copy is done.
        _drop({name: PREFIX + name for name in TABLES})
        return
    if not set_aside and 'floatingips' not in present:
        _create()
        return
    _set_aside(connection)
    # What an interrupted run made of ours goes; the rows are in upstream18_.
    _drop({name: name for name in TABLES})
    _create()
    _copy(connection)
    _drop({name: PREFIX + name for name in TABLES})


def downgrade():
    # Their indexes go with them (MySQL will not drop one a key needs).
    for name in reversed(TABLES):
        op.drop_table(name)
