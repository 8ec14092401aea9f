"""What every resource plugin provides to the manager.

The manager orchestrates leases; a plugin owns one resource type: how a
reservation of it is validated, allocated, handed over in the cloud at the
start, taken back at the end, and shown in a lease.
"""
import abc

from blazar.plugins import preemption


class ResourcePlugin(abc.ABC):
    resource_type = None

    def setup(self):  # noqa: B027  an optional hook, empty by default
        """Called once when the manager loads the plugin."""

    @abc.abstractmethod
    def validate_reservation(self, values):
        """Return normalised reservation parameters or raise a 400 error."""

    @abc.abstractmethod
    def reserve(self, context, lease, reservation_id, values, undo):
        """Allocate resources for a new reservation, inside the caller's
        transaction (which holds the allocation lock). Record external steps
        in ``undo``. Return the id of the plugin's reservation row."""

    @abc.abstractmethod
    def update_reservation(self, context, lease, reservation, values, undo):
        """Apply new dates/parameters to a reservation, same rules as reserve."""

    @abc.abstractmethod
    def release(self, context, lease, reservation, undo):
        """Give back everything a reservation holds (lease deleted)."""

    @abc.abstractmethod
    def on_start(self, context, lease, reservation, undo):
        """Hand the resources over in the cloud when the lease starts,
        recording in ``undo`` how to take each step back."""

    @abc.abstractmethod
    def on_end(self, context, lease, reservation):
        """Take the resources back in the cloud when the lease ends."""

    def before_end(self, context, lease, reservation):  # noqa: B027  optional hook
        """Action some time before the end (e.g. snapshots)."""

    def heal(self, context, lease, reservation, lost_host_ids, undo):
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
        ``undo``: a :class:`blazar.utils.undo.UndoLog`; record there how to
        reverse each cloud step, which is undone if anything later fails,
        the commit included.

        Contract:

        * Look for replacements matching the reservation's own parameters
          for ``[max(now, lease start), lease end]`` among reservable hosts
          free then (the reservation's current allocations count as busy, so
          a host it already holds is never its own replacement).
        * For each lost host replaced, rewrite the allocations: none may
          remain on the lost host. Keep the allocations of a lost host that
          has no replacement: the reservation waits for it (it is whole
          again as soon as the host recovers) and a later pass retries.
        * If the reservation is active, hand replacements over in the cloud
          now (as ``on_start`` would: aggregate, inventory...) and set the
          reservation's ``resources_changed``; take the lost host out of the
          reservation's cloud objects when the cloud lets you (a failed host
          may still carry the tenant's instances: leave it then, ``on_end``
          must still clean it up).
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

    def expected_pools(self, context, lease, reservation):
        """``{host id: {aggregate names}}``: where the hosts of an active
        reservation belong in Nova now (a host it does not name belongs to
        the freepool alone). Read by the reconciler. By default nothing."""
        return {}

    def repair(self, context, lease, reservation):
        """Put back what an active reservation made in the cloud, other
        than aggregate membership, if it went missing or astray; return a
        line per fix. Called by the reconciler under the allocation lock,
        with the lease's events idle. By default nothing."""
        return []

    @abc.abstractmethod
    def reservation_fields(self, reservation):
        """Fields of this resource type shown in a lease's reservation."""
