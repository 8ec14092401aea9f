"""The simulated Placement service: providers, inventories, classes, traits,
allocations — the part of Placement that Nova's scheduler and Blazar use.

``Placement`` holds the data and enforces Placement's rules; the HTTP
front end (``api_placement``) only parses and shapes.  ``Cloud`` owns one
(``cloud.placement``) and shares its lock with it, so a boot's scheduling
decision and its allocation claim are one atomic step, as they are for the
real scheduler thanks to generations.

Rules kept from Placement because clients depend on them:

* every provider has a ``generation``, bumped by any change of its
  inventories, traits or allocations; writes carrying a stale generation
  fail 409 ``placement.concurrent_update``;
* a provider tree is a root and its descendants (``parent_provider_uuid``);
  one request for several resource classes may be served by several
  providers of one tree (the unnumbered request group), and required /
  forbidden traits are checked against the providers serving it;
* capacity is ``(total - reserved) * allocation_ratio``, each allocation
  obeys ``min_unit``, ``max_unit`` and ``step_size``;
* inventory, classes, traits and providers still in use cannot be removed
  (409).

Methods return fresh plain dicts and raise ``errors.PlacementError``.
"""
import dataclasses
import itertools
import re
import threading
import uuid as uuidlib

from blazar.simulator.errors import PlacementError

MAX_INT = 2147483647
CONCURRENT_UPDATE = 'placement.concurrent_update'
DUPLICATE_NAME = 'placement.duplicate_name'
INVENTORY_INUSE = 'placement.inventory.inuse'
PROVIDER_INUSE = 'placement.resource_provider.inuse'
CANNOT_DELETE_PARENT = 'placement.resource_provider.cannot_delete_parent'

# os-resource-classes (the standard classes Placement knows).
STANDARD_CLASSES = (
    'VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF',
    'NUMA_SOCKET', 'NUMA_CORE', 'NUMA_THREAD', 'NUMA_MEMORY_MB',
    'IPV4_ADDRESS', 'VGPU', 'VGPU_DISPLAY_HEAD',
    'NET_BW_EGR_KILOBIT_PER_SEC', 'NET_BW_IGR_KILOBIT_PER_SEC', 'PCPU',
    'MEM_ENCRYPTION_CONTEXT', 'FPGA', 'PGPU',
    'NET_PACKET_RATE_KILOPACKET_PER_SEC',
    'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
    'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC')

# A working subset of os-traits (Placement only accepts these and CUSTOM_*).
STANDARD_TRAITS = (
    'COMPUTE_NODE', 'COMPUTE_STATUS_DISABLED', 'COMPUTE_DEVICE_TAGGING',
    'COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_VOLUME_ATTACH_WITH_TAG',
    'COMPUTE_VOLUME_EXTEND', 'COMPUTE_VOLUME_MULTI_ATTACH',
    'COMPUTE_TRUSTED_CERTS', 'COMPUTE_IMAGE_TYPE_QCOW2',
    'COMPUTE_IMAGE_TYPE_RAW', 'COMPUTE_ACCELERATORS',
    'HW_ARCH_X86_64', 'HW_ARCH_AARCH64',
    'HW_CPU_X86_SSE', 'HW_CPU_X86_SSE2', 'HW_CPU_X86_SSE41',
    'HW_CPU_X86_SSE42', 'HW_CPU_X86_AVX', 'HW_CPU_X86_AVX2',
    'HW_CPU_X86_AVX512F', 'HW_CPU_X86_AESNI', 'HW_CPU_X86_VMX',
    'HW_CPU_HYPERTHREADING', 'HW_GPU_API_VULKAN',
    'HW_NIC_SRIOV', 'HW_NIC_OFFLOAD_TSO',
    'STORAGE_DISK_SSD', 'STORAGE_DISK_HDD', 'MISC_SHARES_VIA_AGGREGATE')

INVENTORY_DEFAULTS = {'reserved': 0, 'min_unit': 1, 'max_unit': MAX_INT,
                      'step_size': 1, 'allocation_ratio': 1.0}
INVENTORY_FIELDS = ('total',) + tuple(INVENTORY_DEFAULTS)
CUSTOM_RE = re.compile(r'^CUSTOM_[A-Z0-9_]+$')
NAME_MAX = 200


def bad(detail, code=PlacementError.UNDEFINED):
    return PlacementError(400, detail, code)


def not_found(detail, code=PlacementError.UNDEFINED):
    return PlacementError(404, detail, code)


def conflict(detail, code=PlacementError.UNDEFINED):
    return PlacementError(409, detail, code)


def is_uuid(value):
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return True


def normalize_uuid(value):
    return str(uuidlib.UUID(str(value)))


@dataclasses.dataclass
class Provider:
    uuid: str
    name: str
    parent_uuid: str = None
    root_uuid: str = None
    generation: int = 0
    inventories: dict = dataclasses.field(default_factory=dict)
    traits: set = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class Consumer:
    uuid: str
    project_id: str
    user_id: str
    consumer_type: str = None
    generation: int = 0
    allocations: dict = dataclasses.field(default_factory=dict)  # rp: {rc: n}


def capacity(inventory):
    """How much of a class may be allocated: (total - reserved) * ratio."""
    return int((inventory['total'] - inventory['reserved'])
               * inventory['allocation_ratio'])


class Placement:
    """In-memory Placement.  Thread-safe; pass ``lock`` to share one."""

    def __init__(self, lock=None):
        self._lock = lock if lock is not None else threading.RLock()
        self.providers = {}          # uuid -> Provider, in creation order
        self.consumers = {}          # uuid -> Consumer
        self.custom_classes = []     # names, in creation order
        self.custom_traits = []

    # --- plumbing ----------------------------------------------------------
    def _provider(self, rp_uuid):
        provider = self.providers.get(rp_uuid)
        if provider is None:
            raise not_found('No resource provider with uuid %s found'
                            % rp_uuid)
        return provider

    @staticmethod
    def _check_generation(provider, generation):
        if generation != provider.generation:
            raise conflict(
                'resource provider generation conflict: resource provider '
                '%s has generation %s, the request says %s. Retrieve the '
                'current state and retry.'
                % (provider.uuid, provider.generation, generation),
                CONCURRENT_UPDATE)

    def _provider_dict(self, provider):
        return {'uuid': provider.uuid, 'name': provider.name,
                'generation': provider.generation,
                'parent_provider_uuid': provider.parent_uuid,
                'root_provider_uuid': provider.root_uuid}

    def _tree(self, root_uuid):
        return [p for p in self.providers.values()
                if p.root_uuid == root_uuid]

    def _used(self, rp_uuid, rc, exclude=None):
        return sum(c.allocations.get(rp_uuid, {}).get(rc, 0)
                   for c in self.consumers.values() if c.uuid != exclude)

    def _has_allocations(self, rp_uuid, rc=None):
        for consumer in self.consumers.values():
            resources = consumer.allocations.get(rp_uuid)
            if resources and (rc is None or resources.get(rc)):
                return True
        return False

    def resource_class_exists(self, name):
        return name in STANDARD_CLASSES or name in self.custom_classes

    def trait_exists(self, name):
        return name in STANDARD_TRAITS or name in self.custom_traits

    # --- resource providers ------------------------------------------------
    def create_provider(self, name, rp_uuid=None, parent_uuid=None):
        with self._lock:
            if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX:
                raise bad("JSON does not validate: 'name' must be a string "
                          "of 1 to %d characters" % NAME_MAX)
            rp_uuid = normalize_uuid(rp_uuid) if rp_uuid else \
                str(uuidlib.uuid4())
            if any(p.name == name for p in self.providers.values()):
                raise conflict('Conflicting resource provider name: %s '
                               'already exists.' % name, DUPLICATE_NAME)
            if rp_uuid in self.providers:
                raise conflict('Conflicting resource provider uuid: %s '
                               'already exists.' % rp_uuid)
            root = rp_uuid
            if parent_uuid is not None:
                parent = self.providers.get(parent_uuid)
                if parent is None:
                    raise bad('parent provider UUID cannot be found.')
                root = parent.root_uuid
            provider = Provider(uuid=rp_uuid, name=name,
                                parent_uuid=parent_uuid, root_uuid=root)
            self.providers[rp_uuid] = provider
            return self._provider_dict(provider)

    def get_provider(self, rp_uuid):
        with self._lock:
            return self._provider_dict(self._provider(rp_uuid))

    def list_providers(self, name=None, rp_uuid=None, in_tree=None,
                       required=(), forbidden=(), resources=None):
        """Providers matching every filter given, in creation order.

        ``required`` is a list of sets of trait names, each set to be met
        by one of its traits (``in:A,B``); ``resources`` maps classes to
        amounts the provider alone must still have room for.
        """
        with self._lock:
            root = None
            if in_tree is not None:
                tree_of = self.providers.get(in_tree)
                if tree_of is None:
                    return []
                root = tree_of.root_uuid
            found = []
            for provider in self.providers.values():
                if name is not None and provider.name != name:
                    continue
                if rp_uuid is not None and provider.uuid != rp_uuid:
                    continue
                if root is not None and provider.root_uuid != root:
                    continue
                if not _traits_ok(provider.traits, required, forbidden):
                    continue
                if resources and not all(
                        self._fits(provider, rc, amount)
                        for rc, amount in resources.items()):
                    continue
                found.append(self._provider_dict(provider))
            return found

    def update_provider(self, rp_uuid, name, parent_uuid=None,
                        reparent=False):
        """Rename (and parent, or with ``reparent`` move) a provider."""
        with self._lock:
            provider = self._provider(rp_uuid)
            if any(p.name == name and p is not provider
                   for p in self.providers.values()):
                raise conflict('Conflicting resource provider name: %s '
                               'already exists.' % name, DUPLICATE_NAME)
            if parent_uuid != provider.parent_uuid:
                if provider.parent_uuid is not None and not reparent:
                    raise bad('Unable to save resource provider %s: Object '
                              'action update failed because: re-parenting a '
                              'provider is not currently allowed.' % rp_uuid)
                if parent_uuid is None:
                    new_root = provider.uuid
                else:
                    parent = self.providers.get(parent_uuid)
                    if parent is None:
                        raise bad('parent provider UUID cannot be found.')
                    if parent.root_uuid == provider.root_uuid and \
                            self._is_descendant(parent, provider):
                        raise bad('creating loop in the provider tree is '
                                  'not allowed.')
                    new_root = parent.root_uuid
                old_root = provider.root_uuid
                for member in self._subtree(provider):
                    if member.root_uuid == old_root:
                        member.root_uuid = new_root
                provider.parent_uuid = parent_uuid
            provider.name = name
            return self._provider_dict(provider)

    def _subtree(self, provider):
        members, frontier = [provider], [provider.uuid]
        while frontier:
            children = [p for p in self.providers.values()
                        if p.parent_uuid in frontier]
            members.extend(children)
            frontier = [p.uuid for p in children]
        return members

    def _is_descendant(self, candidate, ancestor):
        return candidate in self._subtree(ancestor)

    def delete_provider(self, rp_uuid):
        with self._lock:
            provider = self._provider(rp_uuid)
            if self._has_allocations(rp_uuid):
                raise conflict('Unable to delete resource provider %s: '
                               'Resource provider has allocations.'
                               % rp_uuid, PROVIDER_INUSE)
            if any(p.parent_uuid == rp_uuid for p in self.providers.values()):
                raise conflict('Unable to delete parent resource provider '
                               '%s: It has child resource providers.'
                               % rp_uuid, CANNOT_DELETE_PARENT)
            del self.providers[provider.uuid]

    # --- inventories -------------------------------------------------------
    def _validate_inventory(self, provider, rc, fields, version):
        if not self.resource_class_exists(rc):
            raise bad('Unknown resource class in inventory for resource '
                      'provider %s: %s' % (provider.uuid, rc))
        if not isinstance(fields, dict):
            raise bad('JSON does not validate: inventory of %s must be an '
                      'object' % rc)
        unknown = set(fields) - set(INVENTORY_FIELDS)
        if unknown:
            raise bad('JSON does not validate: Additional properties are '
                      'not allowed (%s were unexpected)'
                      % ', '.join(repr(k) for k in sorted(unknown)))
        if 'total' not in fields:
            raise bad("JSON does not validate: 'total' is a required "
                      'property')
        inventory = dict(INVENTORY_DEFAULTS)
        inventory.update(fields)
        for key in ('total', 'reserved', 'min_unit', 'max_unit',
                    'step_size'):
            value = inventory[key]
            low = 0 if key == 'reserved' else 1
            if isinstance(value, bool) or not isinstance(value, int) \
                    or not low <= value <= MAX_INT:
                raise bad('JSON does not validate: %r is not a valid %s '
                          '(an integer from %d to %d)'
                          % (value, key, low, MAX_INT))
        ratio = inventory['allocation_ratio']
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) \
                or not 0 < ratio <= 3.40282e38:
            raise bad('JSON does not validate: %r is not a valid '
                      'allocation_ratio' % (ratio,))
        inventory['allocation_ratio'] = float(ratio)
        too_much = (inventory['reserved'] > inventory['total']
                    if version >= (1, 26)
                    else inventory['reserved'] >= inventory['total']
                    and inventory['reserved'] > 0)
        if too_much:
            raise bad("Unable to update inventory for resource provider %s: "
                      "Invalid inventory for '%s' on resource provider '%s'. "
                      "The reserved value is greater than or equal to total."
                      % (provider.uuid, rc, provider.uuid))
        if inventory['min_unit'] > inventory['max_unit']:
            raise bad("Unable to update inventory for resource provider %s: "
                      "Invalid inventory for '%s': min_unit is greater than "
                      "max_unit." % (provider.uuid, rc))
        return inventory

    def _inventories_dict(self, provider):
        return {rc: dict(inv) for rc, inv in provider.inventories.items()}

    def get_inventories(self, rp_uuid):
        """``(generation, {class: inventory})``."""
        with self._lock:
            provider = self._provider(rp_uuid)
            return provider.generation, self._inventories_dict(provider)

    def get_inventory(self, rp_uuid, rc):
        with self._lock:
            provider = self._provider(rp_uuid)
            if rc not in provider.inventories:
                raise not_found('No inventory of class %s for %s'
                                % (rc, rp_uuid))
            return provider.generation, dict(provider.inventories[rc])

    def _check_removable(self, provider, classes):
        in_use = sorted(rc for rc in classes
                        if self._has_allocations(provider.uuid, rc))
        if in_use:
            raise conflict("update conflict: Inventory for '%s' on resource "
                           "provider '%s' in use."
                           % (', '.join(in_use), provider.uuid),
                           INVENTORY_INUSE)

    def set_inventories(self, rp_uuid, generation, inventories,
                        version=(1, 39)):
        """Replace every inventory of a provider (generation-checked)."""
        with self._lock:
            provider = self._provider(rp_uuid)
            self._check_generation(provider, generation)
            new = {rc: self._validate_inventory(provider, rc, fields, version)
                   for rc, fields in inventories.items()}
            self._check_removable(provider,
                                  set(provider.inventories) - set(new))
            if new != provider.inventories:
                provider.inventories = new
                provider.generation += 1
            return provider.generation, self._inventories_dict(provider)

    def add_inventory(self, rp_uuid, generation, rc, fields,
                      version=(1, 39)):
        """``POST .../inventories``: one new class (409 if present)."""
        with self._lock:
            provider = self._provider(rp_uuid)
            self._check_generation(provider, generation)
            inventory = self._validate_inventory(provider, rc, fields,
                                                 version)
            if rc in provider.inventories:
                raise conflict('Update conflict: Inventory for %s already '
                               'exists on resource provider %s'
                               % (rc, rp_uuid))
            provider.inventories[rc] = inventory
            provider.generation += 1
            return provider.generation, dict(inventory)

    def update_inventory(self, rp_uuid, generation, rc, fields,
                         version=(1, 39)):
        """``PUT .../inventories/{rc}``: an existing class only."""
        with self._lock:
            provider = self._provider(rp_uuid)
            self._check_generation(provider, generation)
            inventory = self._validate_inventory(provider, rc, fields,
                                                 version)
            if rc not in provider.inventories:
                raise bad('No inventory record with resource class %s for '
                          'resource provider %s' % (rc, rp_uuid))
            if inventory != provider.inventories[rc]:
                provider.inventories[rc] = inventory
                provider.generation += 1
            return provider.generation, dict(inventory)

    def delete_inventory(self, rp_uuid, rc):
        with self._lock:
            provider = self._provider(rp_uuid)
            if rc not in provider.inventories:
                raise not_found('No inventory of class %s found for delete'
                                % rc)
            self._check_removable(provider, [rc])
            del provider.inventories[rc]
            provider.generation += 1

    def delete_inventories(self, rp_uuid, generation=None):
        with self._lock:
            provider = self._provider(rp_uuid)
            if generation is not None:
                self._check_generation(provider, generation)
            self._check_removable(provider, list(provider.inventories))
            if provider.inventories:
                provider.inventories = {}
                provider.generation += 1

    # --- usages and capacity -------------------------------------------------
    def usages(self, rp_uuid):
        """``(generation, {class: used})`` over the provider's inventory."""
        with self._lock:
            provider = self._provider(rp_uuid)
            classes = set(provider.inventories)
            for consumer in self.consumers.values():
                classes.update(consumer.allocations.get(rp_uuid, {}))
            return provider.generation, {rc: self._used(rp_uuid, rc)
                                         for rc in sorted(classes)}

    def _fits(self, provider, rc, amount, exclude=None):
        inventory = provider.inventories.get(rc)
        if inventory is None:
            return False
        if not (inventory['min_unit'] <= amount <= inventory['max_unit']
                and amount % inventory['step_size'] == 0):
            return False
        used = self._used(provider.uuid, rc, exclude)
        return used + amount <= capacity(inventory)

    def summary(self, rp_uuid):
        """``{class: {capacity, used}}`` of one provider."""
        with self._lock:
            provider = self._provider(rp_uuid)
            return {rc: {'capacity': capacity(inv),
                         'used': self._used(rp_uuid, rc)}
                    for rc, inv in provider.inventories.items()}

    # --- resource classes ----------------------------------------------------
    def list_resource_classes(self):
        with self._lock:
            return list(STANDARD_CLASSES) + list(self.custom_classes)

    def get_resource_class(self, name):
        with self._lock:
            if not self.resource_class_exists(name):
                raise not_found('No such resource class %s.' % name)
            return name

    @staticmethod
    def _check_custom(name, what='resource class'):
        if not isinstance(name, str) or not CUSTOM_RE.match(name) \
                or len(name) > 255:
            raise bad('The %s %r is invalid: a custom %s must be no longer '
                      'than 255 characters, start with the prefix "CUSTOM_" '
                      'and use only "A"-"Z", "0"-"9" and "_".'
                      % (what, name, what))

    def create_resource_class(self, name):
        """``POST /resource_classes``: 409 when it exists."""
        with self._lock:
            self._check_custom(name)
            if self.resource_class_exists(name):
                raise conflict('Conflicting resource class already exists: '
                               '%s' % name, DUPLICATE_NAME)
            self.custom_classes.append(name)

    def ensure_resource_class(self, name):
        """``PUT /resource_classes/{name}``: True if it was created."""
        with self._lock:
            self._check_custom(name)
            if self.resource_class_exists(name):
                return False
            self.custom_classes.append(name)
            return True

    def delete_resource_class(self, name):
        with self._lock:
            if name in STANDARD_CLASSES:
                raise bad('Cannot delete standard resource class %s: '
                          'standard classes are read-only.' % name)
            if name not in self.custom_classes:
                raise not_found('No such resource class %s.' % name)
            in_use = any(name in p.inventories
                         for p in self.providers.values()) or any(
                name in resources
                for c in self.consumers.values()
                for resources in c.allocations.values())
            if in_use:
                raise conflict('Unable to delete resource class %s. Class is '
                               'in use in inventory.' % name)
            self.custom_classes.remove(name)

    # --- traits --------------------------------------------------------------
    def list_traits(self, names=None, prefix=None, associated=None):
        with self._lock:
            found = list(STANDARD_TRAITS) + list(self.custom_traits)
            if names is not None:
                found = [t for t in found if t in names]
            if prefix is not None:
                found = [t for t in found if t.startswith(prefix)]
            if associated is not None:
                used = set()
                for provider in self.providers.values():
                    used |= provider.traits
                found = [t for t in found if (t in used) == associated]
            return sorted(found)

    def ensure_trait(self, name):
        """``PUT /traits/{name}``: True if it was created."""
        with self._lock:
            self._check_custom(name, 'trait')
            if self.trait_exists(name):
                return False
            self.custom_traits.append(name)
            return True

    def get_trait(self, name):
        with self._lock:
            if not self.trait_exists(name):
                raise not_found('No such trait(s): %s.' % name)
            return name

    def delete_trait(self, name):
        with self._lock:
            if name in STANDARD_TRAITS:
                raise bad('Cannot delete standard trait %s.' % name)
            if name not in self.custom_traits:
                raise not_found('No such trait(s): %s.' % name)
            if any(name in p.traits for p in self.providers.values()):
                raise conflict('The trait %s is in use by a resource '
                               'provider.' % name)
            self.custom_traits.remove(name)

    def get_provider_traits(self, rp_uuid):
        """``(generation, sorted trait names)``."""
        with self._lock:
            provider = self._provider(rp_uuid)
            return provider.generation, sorted(provider.traits)

    def set_provider_traits(self, rp_uuid, generation, traits):
        with self._lock:
            provider = self._provider(rp_uuid)
            self._check_generation(provider, generation)
            missing = sorted({t for t in traits if not self.trait_exists(t)})
            if missing:
                raise bad('No such trait(s): %s.' % ', '.join(missing))
            if set(traits) != provider.traits:
                provider.traits = set(traits)
                provider.generation += 1
            return provider.generation, sorted(provider.traits)

    def delete_provider_traits(self, rp_uuid):
        with self._lock:
            provider = self._provider(rp_uuid)
            if provider.traits:
                provider.traits = set()
                provider.generation += 1

    # --- allocations ---------------------------------------------------------
    def get_allocations(self, consumer_uuid):
        """The consumer's record, or None when it has no allocations."""
        with self._lock:
            consumer = self.consumers.get(consumer_uuid)
            if consumer is None:
                return None
            return {'allocations': {
                        rp: {'generation': self.providers[rp].generation,
                             'resources': dict(resources)}
                        for rp, resources in consumer.allocations.items()},
                    'project_id': consumer.project_id,
                    'user_id': consumer.user_id,
                    'consumer_generation': consumer.generation,
                    'consumer_type': consumer.consumer_type or 'unknown'}

    def provider_allocations(self, rp_uuid):
        """``(generation, {consumer: {class: amount}})`` on a provider."""
        with self._lock:
            provider = self._provider(rp_uuid)
            return provider.generation, {
                c.uuid: dict(c.allocations[rp_uuid])
                for c in self.consumers.values() if c.allocations.get(rp_uuid)}

    def set_allocations(self, consumer_uuid, allocations, project_id=None,
                        user_id=None, consumer_type=None,
                        consumer_generation=None, check_consumer=False):
        """Replace a consumer's allocations (``{rp: {class: amount}}``).

        With ``check_consumer`` (microversion 1.28+) ``consumer_generation``
        must be the consumer's current one (None for a new consumer).  An
        empty ``allocations`` removes the consumer's allocations.
        """
        with self._lock:
            current = self.consumers.get(consumer_uuid)
            if check_consumer:
                expected = current.generation if current else None
                if consumer_generation != expected:
                    raise conflict(
                        'consumer generation conflict - expected %s but got '
                        '%s' % ('null' if expected is None else expected,
                                'null' if consumer_generation is None
                                else consumer_generation),
                        CONCURRENT_UPDATE)
            clean = {}
            for rp_uuid, resources in allocations.items():
                provider = self.providers.get(rp_uuid)
                if provider is None:
                    raise bad("Allocation for resource provider '%s' that "
                              "does not exist." % rp_uuid)
                amounts = {rc: n for rc, n in resources.items() if n}
                for rc, amount in amounts.items():
                    if not self.resource_class_exists(rc):
                        raise bad('Unknown resource class in allocation: %s'
                                  % rc)
                    self._claimable(provider, rc, amount, consumer_uuid)
                if amounts:
                    clean[rp_uuid] = amounts
            touched = set(clean) | set(current.allocations if current
                                       else ())
            for rp_uuid in touched:
                self.providers[rp_uuid].generation += 1
            if not clean:
                self.consumers.pop(consumer_uuid, None)
                return
            if current is None:
                current = Consumer(uuid=consumer_uuid,
                                   project_id=project_id, user_id=user_id)
                self.consumers[consumer_uuid] = current
            current.project_id = project_id or current.project_id
            current.user_id = user_id or current.user_id
            current.consumer_type = consumer_type or current.consumer_type
            current.allocations = clean
            current.generation += 1

    def _claimable(self, provider, rc, amount, consumer_uuid):
        inventory = provider.inventories.get(rc)
        if inventory is None:
            raise conflict("Unable to allocate inventory: Inventory for '%s' "
                           "on resource provider '%s' invalid."
                           % (rc, provider.uuid))
        if not (inventory['min_unit'] <= amount <= inventory['max_unit']
                and amount % inventory['step_size'] == 0):
            raise conflict(
                'Unable to allocate inventory: Allocation for %s on resource '
                'provider %s violates min_unit, max_unit, or step_size. '
                'Requested: %s, min_unit: %s, max_unit: %s, step_size: %s'
                % (rc, provider.uuid, amount, inventory['min_unit'],
                   inventory['max_unit'], inventory['step_size']))
        if not self._fits(provider, rc, amount, exclude=consumer_uuid):
            raise conflict("Unable to allocate inventory: Unable to create "
                           "allocation for '%s' on resource provider '%s'. "
                           "The requested amount would exceed the capacity."
                           % (rc, provider.uuid))

    def delete_allocations(self, consumer_uuid, missing_ok=False):
        with self._lock:
            consumer = self.consumers.pop(consumer_uuid, None)
            if consumer is None:
                if missing_ok:
                    return
                raise not_found("No allocations for consumer '%s'"
                                % consumer_uuid)
            for rp_uuid in consumer.allocations:
                if rp_uuid in self.providers:
                    self.providers[rp_uuid].generation += 1

    # --- allocation candidates -----------------------------------------------
    def _candidates(self, root_uuid, resources, required, forbidden):
        """Ways the tree of ``root_uuid`` can serve one request group.

        Yields ``{rp: {class: amount}}``, root-first: each class comes
        from one provider of the tree with room for it; the traits of the
        providers used must meet ``required`` (a list of any-of sets) and
        avoid ``forbidden``.  Call with the lock held.
        """
        tree = self._tree(root_uuid)
        wanted = [(rc, n) for rc, n in resources.items() if n]
        options = [[p for p in tree if self._fits(p, rc, n)]
                   for rc, n in wanted]
        for combo in itertools.product(*options):
            used = {}
            for (rc, amount), provider in zip(wanted, combo, strict=False):
                used.setdefault(provider.uuid, {})[rc] = amount
            traits = set()
            for rp_uuid in used or [root_uuid]:
                traits |= self.providers[rp_uuid].traits
            if _traits_ok(traits, required, forbidden):
                yield used

    def tree_candidates(self, root_uuid, resources, required=(),
                        forbidden=()):
        """Every allocation the tree of ``root_uuid`` offers (a list)."""
        with self._lock:
            if root_uuid not in self.providers:
                return []
            return list(self._candidates(root_uuid, resources, required,
                                         forbidden))

    def first_candidate(self, root_uuid, resources, required=(),
                        forbidden=()):
        """The allocation the scheduler would claim in a tree, or None."""
        with self._lock:
            if root_uuid not in self.providers:
                return None
            return next(self._candidates(root_uuid, resources, required,
                                         forbidden), None)

    def allocation_candidates(self, resources, required=(), forbidden=(),
                              in_tree=None, root_required=(),
                              root_forbidden=(), limit=None):
        """``(allocation requests, {rp: summary})`` over every tree."""
        with self._lock:
            only_root = None
            if in_tree is not None:
                provider = self.providers.get(in_tree)
                if provider is None:
                    return [], {}
                only_root = provider.root_uuid
            requests, roots = [], []
            for root in [p for p in self.providers.values()
                         if p.parent_uuid is None]:
                if only_root is not None and root.uuid != only_root:
                    continue
                if not _traits_ok(root.traits, root_required,
                                  root_forbidden):
                    continue
                for allocation in self._candidates(root.uuid, resources,
                                                   required, forbidden):
                    requests.append(allocation)
                    if root.uuid not in roots:
                        roots.append(root.uuid)
            if limit is not None:
                requests = requests[:limit]
                kept = {self.providers[next(iter(a))].root_uuid
                        for a in requests if a}
                roots = [r for r in roots if r in kept]
            summaries = {}
            for root_uuid in roots:
                for provider in self._tree(root_uuid):
                    summaries[provider.uuid] = {
                        'resources': self.summary(provider.uuid),
                        'traits': sorted(provider.traits),
                        'parent_provider_uuid': provider.parent_uuid,
                        'root_provider_uuid': provider.root_uuid}
            return requests, summaries


def _traits_ok(traits, required, forbidden):
    return (all(traits & set(any_of) for any_of in required)
            and not traits & set(forbidden))
