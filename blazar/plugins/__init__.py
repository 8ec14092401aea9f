"""Resource plugins, loaded by name from the blazar.resource.plugins namespace."""
import logging

import stevedore
from stevedore import driver

from blazar import exceptions

LOG = logging.getLogger(__name__)
NAMESPACE = 'blazar.resource.plugins'


#: Plugin names an upstream Blazar configuration may list that this service
#: does not (yet) have: skipped with a warning rather than refused.
UPSTREAM_ONLY = {
    'dummy.vm.plugin': "upstream's plugin that does nothing",
}


class PluginConfigurationError(Exception):
    pass


def skipped_upstream(names):
    """{name: why} of the upstream-only names that :func:`load` skips."""
    if not any(name in UPSTREAM_ONLY for name in names):
        return {}
    installed = {ext.name for ext in stevedore.ExtensionManager(NAMESPACE)}
    return {name: UPSTREAM_ONLY[name] for name in names
            if name in UPSTREAM_ONLY and name not in installed}


def load(names):
    """Return {resource_type: plugin} for the configured plugin names."""
    plugins = {}
    skipped = skipped_upstream(names)
    for name, why in skipped.items():
        LOG.warning("[manager] plugins names %s, upstream Blazar's plugin: skipped, %s.",
                    name, why)
    for name in names:
        if name in skipped:
            continue
        try:
            plugin = driver.DriverManager(NAMESPACE, name, invoke_on_load=True).driver
        except Exception as exc:
            raise PluginConfigurationError('Cannot load plugin %s: %s' % (name, exc))
        if plugin.resource_type in plugins:
            raise PluginConfigurationError(
                'Two plugins for resource type %s' % plugin.resource_type)
        plugin.setup()
        plugins[plugin.resource_type] = plugin
        LOG.info('Loaded plugin %s for %s', name, plugin.resource_type)
    return plugins


def get(plugins, resource_type):
    try:
        return plugins[resource_type]
    except KeyError:
        raise exceptions.UnsupportedResourceType(resource_type=resource_type)
