"""Preemptible servers noticed and reclaimed (blazar/manager/preemption.py)."""
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api import paging
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import transaction

__all__ = [
    'preemption_record',
    'preemption_list',
    'PREEMPTION_SORT_KEYS',
]


def preemption_record(context, values):
    """Create or update the record of one server in one reservation's way."""
    with transaction(context) as session:
        row = session.scalar(sa.select(models.Preemption).where(
            models.Preemption.reservation_id == values['reservation_id'],
            models.Preemption.server_id == values['server_id']))
        if row is None:
            row = models.Preemption(**values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        session.flush()
        return _row(row)


# Sort keys of the preemption list (API name: column), NOT NULL and indexed.
PREEMPTION_SORT_KEYS = {'created_at': 'created_at', 'id': 'id'}


def preemption_list(context, lease_id=None, reservation_id=None, project_id=None,
                    page=None):
    """Preemptions, newest first (or ordered and cut as ``page``, a dict:
    limit, marker, sort_key, sort_dir, says), filtered by lease,
    reservation or the server owner's project: one statement (a marker
    adds one)."""
    with _reader(context) as session:
        table = models.Preemption.__table__
        query = sa.select(models.Preemption)
        for column, value in (('lease_id', lease_id), ('reservation_id', reservation_id),
                              ('project_id', project_id)):
            if value is not None:
                query = query.where(getattr(models.Preemption, column) == value)
        page = paging.Page.from_dict(page, 'created_at', paging.DESC)
        query = paging.apply(session, query, table.c.id,
                             table.c[PREEMPTION_SORT_KEYS[page.sort_key]], page)
        return [_row(r) for r in session.scalars(query)]
