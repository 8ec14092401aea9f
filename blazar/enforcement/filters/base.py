"""What an enforcement filter implements.

A filter is a class registered under the ``blazar.enforcement.filters``
entry point namespace and enabled by that name in ``[enforcement]
enabled_filters``. The manager creates one instance per name and calls it:

* ``check_create(context, lease)`` before a new lease is committed;
* ``check_update(context, current_lease, new_lease)`` before a change to a
  lease is committed;
* ``on_end(context, lease)`` after a lease ended or was deleted.

``context`` is the request context (``user_id``, ``project_id``,
``roles``...); during the checks it is also the handle of the lease's
database transaction, so ``blazar.db.api`` reads made with it see the
lease as it would be. ``lease`` is described in ``blazar.enforcement.views``.

A check refuses by raising ``blazar.exceptions.EnforcementRefused`` (see
``refuse``): the request answers 403 with its message and the lease stays
exactly as it was. ``on_end`` cannot refuse anything; its errors are logged.
Read options at call time (``cfg.CONF.enforcement``), not in ``__init__``.
"""
from blazar import exceptions


class BaseFilter:
    # True for a filter that calls a remote service: it is asked before the
    # allocation lock is taken, with the allocation the request would get.
    remote = False

    def check_create(self, context, lease):
        """Raise EnforcementRefused to refuse the new lease."""

    def check_update(self, context, current_lease, new_lease):
        """Raise EnforcementRefused to refuse the change."""

    def on_end(self, context, lease):
        """The lease ended (or was deleted before its end); best effort."""

    @staticmethod
    def refuse(rule, reason):
        raise exceptions.EnforcementRefused(reason=reason, rule=rule)
