"""The test harness's databases: one per backend and test worker."""
from blazar.tests import backends


def test_the_pool_makes_no_database_for_a_backend_it_has(_database_pool, monkeypatch):
    """Built with dict.setdefault, the pool made a new database on every
    call (its argument is evaluated first) and never dropped it: about
    2,000 empty databases on MariaDB and PostgreSQL after a day of runs."""
    first = _database_pool('sqlite')
    made = []
    real = backends.Database

    def counting(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(backends, 'Database', counting)
    assert _database_pool('sqlite') is first
    assert _database_pool('sqlite') is first
    assert made == []
