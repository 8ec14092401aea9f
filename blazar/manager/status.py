"""Status machines of leases, reservations and events, declared as data."""
import logging

from blazar import exceptions

LOG = logging.getLogger(__name__)


class LeaseStatus:
    CREATING = 'CREATING'
    PENDING = 'PENDING'
    STARTING = 'STARTING'
    ACTIVE = 'ACTIVE'
    UPDATING = 'UPDATING'
    TERMINATING = 'TERMINATING'
    TERMINATED = 'TERMINATED'
    DELETING = 'DELETING'
    ERROR = 'ERROR'

    STABLE = (PENDING, ACTIVE, TERMINATED, ERROR)
    # Transitional statuses say the cloud is being made to match the lease
    # (blazar/manager/lifecycle.py): STARTING after its start, UPDATING
    # after a change of an active lease, TERMINATING after its end,
    # DELETING after its deletion; they settle once the cloud matches.
    # ERROR only comes from an upgraded deployment (no retry could fix
    # it there); such a lease can still end and be deleted.
    TRANSITIONS = {
        CREATING: {PENDING, DELETING},
        PENDING: {STARTING, UPDATING, DELETING},
        STARTING: {ACTIVE, TERMINATING, DELETING},
        ACTIVE: {TERMINATING, UPDATING, DELETING},
        UPDATING: {PENDING, ACTIVE, STARTING, TERMINATING, DELETING},
        TERMINATING: {TERMINATED, DELETING},
        TERMINATED: {DELETING},
        ERROR: {STARTING, TERMINATING, DELETING},
        DELETING: set(),
    }


class ReservationStatus:
    """What the cloud has of a reservation: ``active`` once its resources
    are handed over, ``deleted`` once they are all taken back."""
    PENDING = 'pending'
    ACTIVE = 'active'
    DELETED = 'deleted'
    ERROR = 'error'

    TRANSITIONS = {
        PENDING: {ACTIVE, DELETED, ERROR},
        ACTIVE: {DELETED, ERROR},
        ERROR: {ACTIVE, DELETED},
        DELETED: set(),
    }


class EventStatus:
    """A start or an end is IN_PROGRESS from when it is applied to the
    intents until the cloud matches them, then DONE. A before-start or
    before-end action is IN_PROGRESS while a manager runs it, back to
    UNDONE to be retried, and ERROR if the lease ended first."""
    UNDONE = 'UNDONE'
    IN_PROGRESS = 'IN_PROGRESS'
    DONE = 'DONE'
    ERROR = 'ERROR'

    TRANSITIONS = {
        UNDONE: {IN_PROGRESS, DONE},
        IN_PROGRESS: {DONE, ERROR, UNDONE},
        DONE: {UNDONE},
        ERROR: {UNDONE, IN_PROGRESS},
    }


class EventType:
    BEFORE_START = 'before_start_lease'
    START = 'start_lease'
    BEFORE_END = 'before_end_lease'
    END = 'end_lease'
    # Ends run before starts due at the same moment, so that back-to-back
    # leases of one host hand it over in order; a start's notice first.
    ORDER = {BEFORE_END: 0, END: 1, BEFORE_START: 2, START: 3}


def check_transition(machine, kind, ident, current, target):
    """Log a legal transition, refuse an illegal one."""
    if current == target:
        return
    if target not in machine.TRANSITIONS.get(current, ()):
        raise exceptions.InvalidStatus(
            kind=kind, id=ident, status=current,
            reason='it cannot go from %s to %s' % (current, target))
    LOG.info('%s %s: %s -> %s', kind, ident, current, target)
