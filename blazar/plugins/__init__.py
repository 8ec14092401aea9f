"""Resource plugins, loaded by name from the blazar.resource.plugins namespace."""
import logging

from stevedore import driver

from blazar import exceptions

LOG = logging.getLogger(__name__)
NAMESPACE = 'blazar.resource.plugins'


class PluginConfigurationError(Exception):
    pass


def load(names):
    """Return {resource_type: plugin} for the configured plugin names."""
    plugins = {}
    for name in names:
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
