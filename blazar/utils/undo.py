"""Compensation for steps outside the database.

A multi-step operation records how to undo each external step (Nova,
Placement) as it succeeds; if anything later fails, including the final
database commit, the recorded steps are undone in reverse order.
Removals that cannot be undone (an object whose id would change if made
again) are deferred with ``after`` until the whole operation succeeded.
"""
import logging

LOG = logging.getLogger(__name__)


class UndoLog:
    def __init__(self, what=''):
        self.what = what
        self._steps = []
        self._after = []

    def after(self, func, *args, **kwargs):
        """Run once the operation succeeded (a failure is only logged)."""
        self._after.append((func, args, kwargs))

    def add(self, func, *args, **kwargs):
        self._steps.append((func, args, kwargs))

    def rollback(self):
        while self._steps:
            func, args, kwargs = self._steps.pop()
            try:
                func(*args, **kwargs)
            except Exception:
                LOG.exception('Could not undo %s of %s', getattr(func, '__name__', func),
                              self.what)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self._steps:
            LOG.warning('Undoing %s after: %s', self.what, exc)
            self.rollback()
        elif exc_type is None:
            for func, args, kwargs in self._after:
                try:
                    func(*args, **kwargs)
                except Exception:
                    LOG.exception('Could not finish %s: %s failed', self.what,
                                  getattr(func, '__name__', func))
        self._steps = []
        self._after = []
        return False
