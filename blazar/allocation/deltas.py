"""Bringing a loaded calendar up to date with the hosts that changed.

The managers keep the calendar in memory (the reservable hosts, and per
host what holds it); after a change they reload only the hosts the change
touched (blazar/db/api/calendar.py) and merge them in here. The merge
gives exactly what a full load would: the hosts of a full load are its
reservable hosts by id, each host's entries depend on that host's rows
only, and a touched host's fresh rows replace all of its old ones (a host
absent from the fresh load has none left, or is no longer reservable).

Inputs are never changed (readers may hold them): each function returns
new containers, sharing the untouched hosts' entries.
"""


def merge_hosts(hosts, touched, fresh):
    """The host list (ordered by ``id``) with the ``touched`` ids' entries
    replaced by ``fresh`` (the touched hosts that still qualify, any
    order)."""
    touched = set(touched)
    kept = [h for h in hosts if h.id not in touched]
    kept.extend(fresh)
    kept.sort(key=lambda h: h.id)     # nearly sorted: linear
    return kept


def merge_by_host(by_host, touched, fresh):
    """``{host id: [entries]}`` with the ``touched`` hosts' entries replaced
    by ``fresh``'s (a touched host missing from ``fresh`` has none)."""
    merged = dict(by_host)
    for host_id in touched:
        merged.pop(host_id, None)
    for host_id, entries in fresh.items():
        if entries:
            merged[host_id] = entries
    return merged


def trim(by_host, ends_after, end=lambda entry: entry[1]):
    """``{host id: [entries]}`` without the entries ending at or before
    ``ends_after`` (the rows a load at a later time leaves out); hosts left
    with none are dropped."""
    trimmed = {}
    for host_id, entries in by_host.items():
        kept = [e for e in entries if end(e) > ends_after]
        if kept:
            trimmed[host_id] = kept
    return trimmed
