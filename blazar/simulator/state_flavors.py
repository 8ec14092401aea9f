"""Flavors, their extra specs and their project access lists.

Part of ``state.Cloud``.  Visibility follows Nova: a non-admin sees public
flavors and the private ones shared with its project; anything else is
"not found" rather than "forbidden".
"""
from blazar.simulator import errors
from blazar.simulator import model


class FlavorsMixin:

    def _visible(self, caller, flavor):
        return (caller.is_admin or flavor.is_public
                or caller.project_id in flavor.projects)

    def _flavor(self, flavor_id, caller=None):
        flavor = self.flavors.get(str(flavor_id))
        if flavor is None or (caller and not self._visible(caller, flavor)):
            raise errors.NotFound('Flavor %s could not be found.'
                                  % flavor_id)
        return flavor

    def list_flavors(self, caller, is_public=True):
        """``is_public``: True (public + own), False (private), None (all).

        As in Nova, only admins may ask for private or all flavors; a
        non-admin always gets the public ones plus those shared with it.
        """
        with self._lock:
            found = []
            for flavor in self.flavors.values():
                if not caller.is_admin or is_public is True:
                    keep = (flavor.is_public
                            or caller.project_id in flavor.projects)
                elif is_public is None:
                    keep = True
                else:
                    keep = not flavor.is_public
                if keep:
                    found.append(self._copy(flavor))
            return sorted(found, key=lambda f: f['id'])   # Nova: flavorid

    def get_flavor(self, caller, flavor_id):
        with self._lock:
            return self._copy(self._flavor(flavor_id, caller))

    def create_flavor(self, name, ram, vcpus, disk, flavor_id=None,
                      ephemeral=0, swap=0, rxtx_factor=1.0, is_public=True,
                      description=None):
        with self._lock:
            flavor_id = str(flavor_id) if flavor_id not in (None, 'auto') \
                else model.new_uuid()
            for other in self.flavors.values():
                if other.name == name:
                    raise errors.Conflict(
                        'Flavor with name %s already exists.' % name)
            if flavor_id in self.flavors:
                raise errors.Conflict(
                    'Flavor with ID %s already exists.' % flavor_id)
            flavor = model.Flavor(
                id=flavor_id, name=name, vcpus=vcpus, ram=ram, disk=disk,
                ephemeral=ephemeral, swap=swap, rxtx_factor=rxtx_factor,
                is_public=is_public, description=description)
            self.flavors[flavor_id] = flavor
            return self._copy(flavor)

    def delete_flavor(self, flavor_id):
        with self._lock:
            self._flavor(flavor_id)
            del self.flavors[str(flavor_id)]

    def get_extra_specs(self, caller, flavor_id):
        with self._lock:
            return dict(self._flavor(flavor_id, caller).extra_specs)

    def set_extra_specs(self, flavor_id, specs):
        with self._lock:
            flavor = self._flavor(flavor_id)
            for key, value in specs.items():
                if not isinstance(value, (str, int, float, bool)):
                    raise errors.BadRequest(
                        'Invalid extra spec value for %s' % key)
                flavor.extra_specs[key] = str(value) \
                    if not isinstance(value, bool) else str(value).lower()
            return {k: flavor.extra_specs[k] for k in specs}

    def delete_extra_spec(self, flavor_id, key):
        with self._lock:
            flavor = self._flavor(flavor_id)
            if key not in flavor.extra_specs:
                raise errors.NotFound(
                    'Flavor %s has no extra specs with key %s.'
                    % (flavor_id, key))
            del flavor.extra_specs[key]

    def list_flavor_access(self, flavor_id):
        with self._lock:
            flavor = self._flavor(flavor_id)
            if flavor.is_public:
                raise errors.NotFound(
                    'Access list not available for public flavors.')
            return list(flavor.projects)

    def add_flavor_access(self, flavor_id, project_id):
        with self._lock:
            flavor = self._flavor(flavor_id)
            if flavor.is_public:
                raise errors.Conflict(
                    'Can not add access to a public flavor.')
            if project_id in flavor.projects:
                raise errors.Conflict(
                    'Flavor access already exists for flavor %s and project '
                    '%s combination.' % (flavor_id, project_id))
            flavor.projects.append(project_id)
            return list(flavor.projects)

    def remove_flavor_access(self, flavor_id, project_id):
        with self._lock:
            flavor = self._flavor(flavor_id)
            if project_id not in flavor.projects:
                raise errors.NotFound(
                    'Flavor access not found for %s / %s combination.'
                    % (flavor_id, project_id))
            flavor.projects.remove(project_id)
            return list(flavor.projects)
