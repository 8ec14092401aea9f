"""Status machines and the lease status derived from its events."""
import itertools

import pytest

from blazar import exceptions
from blazar.manager import lifecycle
from blazar.manager import status
from blazar.manager.status import EventStatus as E
from blazar.manager.status import EventType
from blazar.manager.status import LeaseStatus as L
from blazar.manager.status import ReservationStatus as R

MACHINES = {'Lease': L, 'Reservation': R, 'Event': E}


def states(machine):
    return sorted(machine.TRANSITIONS)


def pairs(legal):
    for kind, machine in MACHINES.items():
        for current, target in itertools.permutations(states(machine), 2):
            if (target in machine.TRANSITIONS[current]) == legal:
                yield pytest.param(kind, current, target,
                                   id='%s:%s->%s' % (kind, current, target))


@pytest.mark.parametrize('machine', MACHINES.values(), ids=MACHINES.keys())
def test_machine_is_closed(machine):
    """Every target is itself a state of the machine, and none loops on itself."""
    for current, targets in machine.TRANSITIONS.items():
        assert targets <= set(machine.TRANSITIONS), current
        assert current not in targets


def test_lease_states_are_the_declared_ones():
    declared = {v for k, v in vars(L).items() if k.isupper() and isinstance(v, str)}
    assert declared == set(L.TRANSITIONS)
    assert set(L.STABLE) <= declared


def test_expected_lifecycle_paths_are_legal():
    paths = [
        (L, [L.CREATING, L.PENDING, L.STARTING, L.ACTIVE, L.TERMINATING, L.TERMINATED]),
        (L, [L.PENDING, L.STARTING, L.TERMINATING, L.DELETING]),
        (L, [L.ACTIVE, L.UPDATING, L.ACTIVE, L.DELETING]),
        (L, [L.PENDING, L.UPDATING, L.STARTING, L.ACTIVE]),
        (L, [L.ERROR, L.TERMINATING, L.TERMINATED, L.DELETING]),
        (R, [R.PENDING, R.ACTIVE, R.DELETED]),
        (R, [R.PENDING, R.ERROR, R.DELETED]),
        (E, [E.UNDONE, E.IN_PROGRESS, E.DONE, E.UNDONE]),
        (E, [E.UNDONE, E.IN_PROGRESS, E.ERROR, E.IN_PROGRESS]),
    ]
    for machine, path in paths:
        for current, target in zip(path, path[1:], strict=False):
            status.check_transition(machine, 'X', 'id', current, target)


@pytest.mark.parametrize('kind, current, target', list(pairs(legal=True)))
def test_legal_transition(kind, current, target, caplog):
    caplog.set_level('INFO', logger=status.__name__)
    assert status.check_transition(MACHINES[kind], kind, 'id-1', current,
                                   target) is None
    assert '%s id-1: %s -> %s' % (kind, current, target) in caplog.text


@pytest.mark.parametrize('kind, current, target', list(pairs(legal=False)))
def test_illegal_transition_is_a_409(kind, current, target):
    with pytest.raises(exceptions.InvalidStatus) as info:
        status.check_transition(MACHINES[kind], kind, 'id-1', current, target)
    assert info.value.code == 409
    assert isinstance(info.value, exceptions.Conflict)
    message = info.value.message
    assert message == 'Invalid %s status. %s id-1 is %s: it cannot go from %s to %s' % (
        kind.lower(), kind, current, current, target)


@pytest.mark.parametrize('kind, state', [
    (kind, state) for kind, machine in MACHINES.items() for state in states(machine)])
def test_same_state_is_a_silent_no_op(kind, state, caplog):
    caplog.set_level('INFO', logger=status.__name__)
    assert status.check_transition(MACHINES[kind], kind, 'id-1', state, state) is None
    assert caplog.text == ''


def test_unknown_current_state_is_refused():
    with pytest.raises(exceptions.InvalidStatus):
        status.check_transition(L, 'Lease', 'id-1', 'BOGUS', L.ACTIVE)


def test_deleted_reservation_is_final():
    for target in (R.PENDING, R.ACTIVE, R.ERROR):
        with pytest.raises(exceptions.InvalidStatus):
            status.check_transition(R, 'Reservation', 'r', R.DELETED, target)


def test_ends_run_before_starts():
    assert EventType.ORDER[EventType.BEFORE_END] < EventType.ORDER[EventType.END] \
        < EventType.ORDER[EventType.START]


# --- lifecycle.derive_status ------------------------------------------

MISSING = None
EVENT_STATES = [E.UNDONE, E.IN_PROGRESS, E.DONE, E.ERROR, MISSING]


def events(start, end, before_end=MISSING):
    found = []
    for event_type, event_status in ((EventType.START, start), (EventType.END, end),
                                     (EventType.BEFORE_END, before_end)):
        if event_status is not MISSING:
            found.append({'event_type': event_type, 'status': event_status,
                          'id': event_type})
    return found


def expected_status(start, end):
    if E.ERROR in (start, end):
        return L.ERROR
    return {(E.UNDONE, E.UNDONE): L.PENDING,
            (E.DONE, E.UNDONE): L.ACTIVE,
            (E.DONE, E.DONE): L.TERMINATED}.get((start, end), L.ERROR)


@pytest.mark.parametrize('start, end, expected', [
    (E.UNDONE, E.UNDONE, L.PENDING),
    (E.DONE, E.UNDONE, L.ACTIVE),
    (E.DONE, E.DONE, L.TERMINATED),
    (E.ERROR, E.UNDONE, L.ERROR),
    (E.ERROR, E.DONE, L.ERROR),
    (E.DONE, E.ERROR, L.ERROR),
    (E.ERROR, E.ERROR, L.ERROR),
    (E.UNDONE, E.DONE, L.ERROR),       # ended without starting
    (MISSING, MISSING, L.ERROR),       # no events at all
    (E.UNDONE, MISSING, L.ERROR),
    (MISSING, E.UNDONE, L.ERROR),
])
def test_derive_status_named_cases(start, end, expected):
    assert lifecycle.derive_status(events(start, end)) == expected


@pytest.mark.parametrize('start, end', list(itertools.product(EVENT_STATES, repeat=2)))
@pytest.mark.parametrize('before_end', EVENT_STATES)
def test_derive_status_every_combination(start, end, before_end):
    derived = lifecycle.derive_status(events(start, end, before_end))
    # The before_end event never matters; the result is always a stable status.
    assert derived == expected_status(start, end)
    assert derived in L.STABLE


@pytest.mark.parametrize('transitional, start, end', [
    (L.STARTING, E.DONE, E.UNDONE),
    (L.UPDATING, E.UNDONE, E.UNDONE),
    (L.UPDATING, E.DONE, E.UNDONE),
    (L.TERMINATING, E.DONE, E.DONE),
])
def test_settling_moves_a_transitional_lease_to_its_derived_status(transitional, start,
                                                                   end):
    """Once its intents converged, a lease leaves its transitional status
    for the one its events give (blazar/manager/lifecycle.py): legal moves."""
    derived = lifecycle.derive_status(events(start, end))
    assert derived in L.STABLE and derived != L.ERROR
    status.check_transition(L, 'Lease', 'l', transitional, derived)
