"""What every resource plugin provides to the manager.

The manager orchestrates leases; a plugin owns one resource type: how a
reservation of it is validated, allocated, handed over in the cloud at the
start, taken back at the end, and shown in a lease.
"""
import abc

from blazar import exceptions
from blazar.plugins import preemption


def host_page(hosts, page):
    """The calendar detail's page of ``hosts`` (objects with an integer
    ``id``): by id, after the ``marker`` host (a 400 if it is not one of
    them), at most ``limit``; ``hosts`` as they are without a page."""
    if not page:
        return list(hosts)
    hosts = sorted(hosts, key=lambda host: host.id)
    marker = page.get('marker')
    if marker is not None:
        ids = [str(host.id) for host in hosts]
        if str(marker) not in ids:
            raise exceptions.InvalidInput(reason='Marker %s not found' % str(marker)[:255])
        hosts = hosts[ids.index(str(marker)) + 1:]
    if page.get('limit') is not None:
        hosts = hosts[:page['limit']]
    return hosts


class ResourcePlugin(abc.ABC):
    resource_type = None

    def setup(self):  # noqa: B027  an optional hook, empty by default
        """Called once when the manager loads the plugin."""

    @abc.abstractmethod
    def validate_reservation(self, values):
        """Return normalised reservation parameters or raise a 400 error."""

    def prepare(self, context, lease, values):
        """Complete validated parameters with what only the cloud knows (a
        flavor's shape). Runs before the allocation lock is taken: the only
        place a plugin may call the cloud while a request is served."""
        return values

    def prepare_update(self, context, lease, reservation, changes):
        """As ``prepare``, for the changes an update asks for."""
        return changes

    @abc.abstractmethod
    def reserve(self, context, lease, reservation_id, values, row_id):
        """Allocate resources for a new reservation, inside the caller's
        transaction (which holds the allocation lock): store only, no cloud
        call. The plugin's reservation row takes ``row_id`` as its id: the
        reservation was stored with it as its resource_id (so it is not
        written a second time under the lock)."""

    @abc.abstractmethod
    def update_reservation(self, context, lease, reservation, values):
        """Apply new dates/parameters to a reservation, same rules as reserve."""

    @abc.abstractmethod
    def intent_spec(self, context, lease, reservation, phase):
        """What the cloud must hold for this reservation in ``phase``
        (``reserved``, ``active``, ``absent``), as a JSON dict (names,
        hosts, owner...), read from the store only: the converger makes the
        cloud match it (blazar/manager/converger.py)."""

    @abc.abstractmethod
    def plan(self, phase, spec, observed):
        """The ordered ``blazar.plugins.steps.Step`` list taking the cloud to
        ``phase`` (``reserved``, ``active``, ``absent``) for ``spec``, from
        what ``observed`` says earlier steps did. Pure: steps do the I/O."""

    def remember(self, context, reservation_id, observed):  # noqa: B027  optional hook
        """Keep the ids of objects the converger made (shown in the lease)
        in the plugin's row. By default nothing."""

    def marked_objects(self):
        """Objects in the cloud carrying this plugin's marks
        (``blazar.plugins.steps.Marked``), for orphan collection."""
        return []

    def before_end(self, context, lease, reservation):  # noqa: B027  optional hook
        """Action some time before the end (e.g. snapshots)."""

    def heal(self, context, lease, reservation, lost_host_ids):
        """Move a reservation off hosts it can no longer use; return True
        when it holds none of them afterwards.

        Called by :mod:`blazar.manager.healing` (a host failed, went into
        maintenance, or an operator asked to reallocate it), once per
        reservation, inside a transaction that holds the allocation lock and
        with the lease's events idle; the reservation is ``pending`` or
        ``active`` and its lease ends in the future.

        ``lease``/``reservation``: store dicts read under the lock (the
        reservation with its plugin row). ``lost_host_ids``: ids of hosts the
        reservation holds allocations on and must leave (never empty).

        Contract:

        * Look for replacements matching the reservation's own parameters
          for ``[max(now, lease start), lease end]`` among reservable hosts
          free then (the reservation's current allocations count as busy, so
          a host it already holds is never its own replacement).
        * For each lost host replaced, rewrite the allocations: none may
          remain on the lost host. Keep the allocations of a lost host that
          has no replacement: the reservation waits for it (it is whole
          again as soon as the host recovers) and a later pass retries.
        * Change the store only: the caller refreshes the reservation's
          intent, and the converger hands replacements over and takes the
          lost hosts back in the cloud. If the reservation is active, set its
          ``resources_changed``.
        * Be safe to call again with the same hosts: already moved ones are
          no longer in ``lost_host_ids``.

        The caller, not the plugin, sets ``missing_resources`` (true while
        the reservation holds an allocation on a failed host or one in
        maintenance during its remaining window) and the lease's
        ``degraded``, and sends the notifications.

        This default heals nothing: the reservation keeps its lost hosts.
        """
        return False

    def preemption_targets(self, context, lease, reservation):
        """The servers occupying the capacity this reservation needs at its
        start: ``blazar.plugins.preemption.targets(reclaim, blocked)``, the
        preemptible ones to reclaim (just enough of them) and the others in
        the way, which are never touched. Called ahead of the start (to
        notify) and at the start (to reclaim). By default nothing."""
        return preemption.targets()

    @abc.abstractmethod
    def reservation_fields(self, reservation):
        """Fields of this resource type shown in a lease's reservation."""
