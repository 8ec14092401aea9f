"""The vocabulary plugins plan cloud work with (blazar/manager/converger.py
runs the plans)."""
import typing


class Step(typing.NamedTuple):
    """One idempotent step of a plan. ``run(observed)`` does the work,
    looking before it acts (does it exist? is it a member? is it equal?),
    records what it made or removed in the ``observed`` dict, and raises on
    failure; done twice, it changes nothing the second time."""
    key: str
    what: str
    run: typing.Callable[[dict], None]


class Marked(typing.NamedTuple):
    """An object in the cloud carrying the service's marks, for orphan
    collection: ``remove()`` deletes it (idempotent)."""
    kind: str
    ident: str
    reservation_id: str
    remove: typing.Callable[[], None]


class Wait(Exception):
    """A step cannot go on until another reservation lets go of something;
    not a failure: the intent is looked at again when it does.

    ``still(context)``, if given, says whether the wait still holds; it is
    asked again under the allocation lock as the wait is recorded, so that
    a holder letting go just before is never missed."""

    def __init__(self, reason, still=None):
        super().__init__(reason)
        self.reason = reason
        self.still = still


class Restart(Exception):
    """A step learnt something that changes the plan (hosts found in an
    aggregate, the intent changed by healing): plan again."""
