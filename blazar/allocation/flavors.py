"""What one instance of a Nova flavor asks Placement for, as Nova computes it.

Pure: the instance reservation plugin sizes its slots with it, and the
simulator's scheduler asks its Placement with it, so both agree with Nova.
"""
import re

__all__ = ['placement_request']

_RESOURCES_SCOPE = re.compile(r'^resources(\d*)$')
_TRAIT_SCOPE = re.compile(r'^trait(\d*)$')


def placement_request(flavor):
    """What a boot of ``flavor`` asks Placement for, as Nova computes it.

    Returns ``(resources, required, forbidden)``: ``{class: amount}``
    (``VCPU`` = vcpus, or ``PCPU`` with ``hw:cpu_policy=dedicated``;
    ``MEMORY_MB`` = ram, ``DISK_GB`` = disk + ephemeral + swap rounded up to
    GiB; ``resources:<CLASS>=<n>`` overrides or adds a
    class, ``=0`` drops it), a list of required trait sets (one trait each)
    and a set of forbidden traits (``trait:<NAME>=required|forbidden``).
    Numbered groups (``resources1:``, ``trait1:``) are merged into the one
    group: neither the simulator nor slot counting models group isolation.
    """
    swap_gb = -(-int(flavor.get('swap') or 0) // 1024)
    resources = {'VCPU': int(flavor['vcpus']),
                 'MEMORY_MB': int(flavor['ram']),
                 'DISK_GB': int(flavor['disk'])
                 + int(flavor.get('ephemeral') or 0) + swap_gb}
    if str((flavor.get('extra_specs') or {}).get('hw:cpu_policy', '')).lower() \
            == 'dedicated':
        # Pinned CPUs come from the PCPU inventory (Nova since Train).
        resources['PCPU'] = resources.pop('VCPU')
    extra = {}
    required, forbidden = [], set()
    for key, value in sorted((flavor.get('extra_specs') or {}).items()):
        scope, sep, name = key.partition(':')
        if not sep or not name:
            continue
        match = _RESOURCES_SCOPE.match(scope)
        if match:
            try:
                amount = int(value)
            except (TypeError, ValueError):
                continue
            if match.group(1):
                extra[name] = extra.get(name, 0) + amount
            else:
                resources[name] = amount
        elif _TRAIT_SCOPE.match(scope):
            if str(value).lower() == 'required':
                required.append({name})
            elif str(value).lower() == 'forbidden':
                forbidden.add(name)
    for name, amount in extra.items():
        resources[name] = resources.get(name, 0) + amount
    return ({rc: n for rc, n in resources.items() if n > 0}, required,
            forbidden)
