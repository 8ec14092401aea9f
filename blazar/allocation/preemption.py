"""Which preemptible servers to reclaim so that reserved room fits a host.

Pure: the caller reads the host's usable capacity, the room the instance
reservations hold on it at the moment that matters, and the servers
occupying it outside that room.
"""

__all__ = ['choose']


def _excess(capacity, reserved, occupants, classes):
    return {rc: reserved.get(rc, 0) + sum(r.get(rc, 0) for _, r, _ in occupants)
            - capacity.get(rc, 0) for rc in classes}


def choose(capacity, reserved, occupants):
    """``(victims, blockers)``: the fewest preemptible occupants to remove,
    newest first, so that ``reserved`` fits beside what stays, and the
    non-preemptible occupants left in the way when even removing every
    helpful preemptible is not enough (else empty).

    ``capacity`` and ``reserved``: resource class -> amount; ``occupants``:
    ``(server id, resources, preemptible)`` in newest-first order. Only the
    classes the reservations use count; an occupant freeing none of the
    classes still short is never chosen.
    """
    classes = [rc for rc, n in reserved.items() if n > 0]
    staying = list(occupants)
    victims = []
    excess = _excess(capacity, reserved, staying, classes)
    for occupant in list(staying):
        if all(v <= 0 for v in excess.values()):
            break
        server_id, resources, preemptible = occupant
        if not preemptible or not any(resources.get(rc, 0) > 0 and excess[rc] > 0
                                      for rc in classes):
            continue
        staying.remove(occupant)
        victims.append(server_id)
        excess = _excess(capacity, reserved, staying, classes)
    if any(v > 0 for v in excess.values()):
        return victims, [s for s, _r, p in staying if not p]
    return victims, []
