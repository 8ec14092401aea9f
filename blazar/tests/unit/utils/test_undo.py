"""UndoLog: compensation of external steps when a later step fails."""
import logging

import pytest

from blazar.utils import undo


class Boom(Exception):
    pass


def test_steps_are_undone_in_reverse_order_on_exception():
    done = []
    with pytest.raises(Boom):
        with undo.UndoLog('lease create') as steps:
            steps.add(done.append, 'first')
            steps.add(done.append, 'second')
            steps.add(lambda *a, **k: done.append((a, k)), 1, 2, key='v')
            raise Boom()
    assert done == [((1, 2), {'key': 'v'}), 'second', 'first']


def test_nothing_is_undone_on_success():
    done = []
    with undo.UndoLog() as steps:
        steps.add(done.append, 'first')
        steps.add(done.append, 'second')
    assert done == []


def test_enter_returns_the_log():
    log = undo.UndoLog('x')
    with log as entered:
        assert entered is log


def test_a_failing_undo_step_does_not_stop_the_others(caplog):
    done = []

    def broken():
        raise RuntimeError('nova is down')

    with caplog.at_level(logging.WARNING, logger=undo.__name__):
        with pytest.raises(Boom) as info:
            with undo.UndoLog('host create') as steps:
                steps.add(done.append, 'first')
                steps.add(broken)
                steps.add(done.append, 'third')
                raise Boom('db commit failed')
    # The original error surfaces, not the undo failure.
    assert str(info.value) == 'db commit failed'
    assert done == ['third', 'first']
    assert 'Could not undo broken of host create' in caplog.text
    assert 'nova is down' in caplog.text


@pytest.mark.parametrize('exc', [Boom('x'), KeyError('k'), KeyboardInterrupt()])
def test_the_exception_is_re_raised_unchanged(exc):
    done = []
    with pytest.raises(type(exc)) as info:
        with undo.UndoLog() as steps:
            steps.add(done.append, 1)
            raise exc
    assert info.value is exc
    assert done == [1]


def test_steps_are_forgotten_after_the_block():
    done = []
    log = undo.UndoLog()
    with log:
        log.add(done.append, 'kept')
    log.rollback()
    assert done == []
    with pytest.raises(Boom):
        with log:
            log.add(done.append, 'second')
            raise Boom()
    log.rollback()
    assert done == ['second']


def test_explicit_rollback_runs_each_step_once():
    done = []
    log = undo.UndoLog()
    log.add(done.append, 'a')
    log.add(done.append, 'b')
    log.rollback()
    log.rollback()
    assert done == ['b', 'a']
