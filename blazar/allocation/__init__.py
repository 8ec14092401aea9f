"""Time-window allocation core: who gets which resource when.

A pure package (standard library only, no I/O, no database, no config): the
caller loads plain data with a constant number of queries and every decision
is computed here.

* :mod:`.windows` - half-open intervals, the shared free-ness predicate,
  usage profiles and peaks;
* :mod:`.properties` - the host property query language;
* :mod:`.hosts` - whole-host selection (placement policy, updates);
* :mod:`.slots` - instance slots per host and their selection (affinity);
* :mod:`.availability` - how many hosts / how long / when;
* :mod:`.slot_availability` - how long / when / the free-slot calendar for
  instance shapes (how many: :func:`.slots.max_amount`);
* :mod:`.deltas` - a loaded calendar brought up to date with the hosts that
  changed.

Times are naive UTC datetimes, intervals are ``[start, end)`` and the
cleaning ``margin`` is a ``timedelta`` (``None`` for none).
"""
