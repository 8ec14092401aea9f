"""Preemptible servers noticed and reclaimed (blazar/manager/preemption.py)."""
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import transaction

__all__ = [
    'preemption_record',
    'preemption_list',
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


def preemption_list(context, lease_id=None, reservation_id=None, project_id=None):
    """Preemptions, newest first, filtered by lease, reservation or the
    server owner's project."""
    with _reader(context) as session:
        query = sa.select(models.Preemption).order_by(
            models.Preemption.created_at.desc(), models.Preemption.id.desc())
        for column, value in (('lease_id', lease_id), ('reservation_id', reservation_id),
                              ('project_id', project_id)):
            if value is not None:
                query = query.where(getattr(models.Preemption, column) == value)
        return [_row(r) for r in session.scalars(query)]
