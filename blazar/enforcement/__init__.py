"""Usage enforcement: rules a lease must pass to be created or changed.

``[enforcement] enabled_filters`` names filters (entry points in the
``blazar.enforcement.filters`` namespace, see ``filters/base.py``); the
manager runs them through ``Enforcement`` inside the lease's transaction,
after its allocation is decided and before it is committed, so a refusal
(403) rolls everything back. See doc/source/admin/enforcement.rst.
"""
from blazar.enforcement.engine import Enforcement  # noqa: F401
from blazar.enforcement.engine import NAMESPACE  # noqa: F401
