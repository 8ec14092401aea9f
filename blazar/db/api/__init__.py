"""The only way into the store, one module per aggregate.

``from blazar.db import api as db_api`` gives every function of the store;
each lives in the module of its noun:

* :mod:`.core` engine, transactions, the allocation lock;
* :mod:`.leases` leases, reservations and their plugin rows;
* :mod:`.events` lease events and their claims;
* :mod:`.hosts` hosts, capabilities, properties, inventories;
* :mod:`.allocations` who holds which host when, the calendar, slots;
* :mod:`.calendar` which hosts each calendar change touched (the caches' delta);
* :mod:`.floatingips` floating IPs, their reservations and allocations;
* :mod:`.usage` reserved time per project;
* :mod:`.intents` what the cloud must hold, the converger's progress;
* :mod:`.health` failures, maintenance and healing;
* :mod:`.preemptions` preemptible servers reclaimed;
* :mod:`.trusts` Keystone trusts that leases share.

Functions return plain dicts; no ORM object leaves the package.

A function that changes what the calendar is made of (a host's row,
capabilities, inventory or health, or allocations) records the hosts it
touched, with :func:`.calendar.calendar_touch` (a host's own rows) or
:func:`.calendar.calendar_touch_holdings` (allocations alone): the
managers' calendars catch up on them. One that changes allocations, a
host's size or an instance reservation's shape also rewrites the usage
spans of the reservations concerned with :func:`.usage.usage_spans_refresh`,
in its own transaction;
the property test blazar/tests/functional/test_availability_cache.py
checks both against a full reload after random changes.
"""
from blazar.db.api.allocations import *  # noqa: F401,F403
from blazar.db.api.calendar import *  # noqa: F401,F403
from blazar.db.api.core import *  # noqa: F401,F403
from blazar.db.api.events import *  # noqa: F401,F403
from blazar.db.api.floatingips import *  # noqa: F401,F403
from blazar.db.api.health import *  # noqa: F401,F403
from blazar.db.api.hosts import *  # noqa: F401,F403
from blazar.db.api.intents import *  # noqa: F401,F403
from blazar.db.api.leases import *  # noqa: F401,F403
from blazar.db.api.preemptions import *  # noqa: F401,F403
from blazar.db.api.trusts import *  # noqa: F401,F403
from blazar.db.api.usage import *  # noqa: F401,F403
