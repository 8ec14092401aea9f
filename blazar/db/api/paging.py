"""Keyset pagination shared by the list queries of the store.

A page is ``ORDER BY <sort column> <dir>, id <dir> LIMIT n`` starting after
the marker row: the marker's sort value and id are read first (one
statement), then the page is one statement whatever the number of rows.
Rows inserted or deleted between two pages never shift a later page, since
the next page starts after a (sort value, id) pair, not at an offset.
Sort columns are NOT NULL, so the comparison needs no NULL ordering rule.
"""
import sqlalchemy as sa

from blazar import exceptions

__all__ = []

ASC, DESC = 'asc', 'desc'


class Page:
    """What the caller asked: ``limit`` rows (None: all) after ``marker``
    (an id; None: from the first) ordered by ``sort_key`` then id."""

    def __init__(self, sort_key, sort_dir=ASC, limit=None, marker=None):
        self.sort_key, self.sort_dir = sort_key, sort_dir
        self.limit, self.marker = limit, marker

    @classmethod
    def from_dict(cls, values, default_key, default_dir=ASC):
        """From the API's ``{'limit', 'marker', 'sort_key', 'sort_dir'}``
        (missing keys take the list's defaults)."""
        values = values or {}
        return cls(values.get('sort_key') or default_key,
                   values.get('sort_dir') or default_dir,
                   values.get('limit'), values.get('marker'))


def marker_value(session, id_col, sort_col, marker, scope=None):
    """(sort value, id) of the marker row within ``scope``; a 400 if there
    is no such row (an id of the wrong type is no such row either)."""
    try:
        value = id_col.type.python_type(marker)
    except (TypeError, ValueError):
        value = None
    row = None
    if value is not None and (not isinstance(value, int) or -2 ** 31 <= value < 2 ** 31):
        row = session.execute(sa.select(sort_col, id_col)
                              .where(sa.true() if scope is None else scope,
                                     id_col == value)).first()
    if row is None:
        raise exceptions.InvalidInput(reason='Marker %s not found' % str(marker)[:255])
    return row[0], row[1]


def after(session, sort_col, id_col, value, marker_id, descending=False):
    """The condition of the rows after (sort value, id) in the order, in
    the form each database seeks the index with: a row-value comparison
    (PostgreSQL, SQLite); on MariaDB/MySQL, which do not range-scan row
    values, the union of two ranges (sort value beyond the marker's, or
    equal to it with the id beyond)."""
    if sort_col is id_col:
        return id_col < marker_id if descending else id_col > marker_id
    if session.get_bind().dialect.name != 'mysql':
        ours, theirs = sa.tuple_(sort_col, id_col), sa.tuple_(value, marker_id)
        return ours < theirs if descending else ours > theirs
    if descending:
        return sa.or_(sort_col < value, sa.and_(sort_col == value, id_col < marker_id))
    return sa.or_(sort_col > value, sa.and_(sort_col == value, id_col > marker_id))


def apply(session, query, id_col, sort_col, page, scope=None):
    """``query`` ordered (and cut) as ``page`` says."""
    descending = page.sort_dir == DESC
    direction = (lambda c: c.desc()) if descending else (lambda c: c.asc())
    if sort_col is id_col:
        query = query.order_by(direction(id_col))
    else:
        query = query.order_by(direction(sort_col), direction(id_col))
    if page.marker is not None:
        value, marker_id = marker_value(session, id_col, sort_col, page.marker, scope)
        query = query.where(after(session, sort_col, id_col, value, marker_id,
                                  descending))
    if page.limit is not None:
        query = query.limit(page.limit)
    return query
