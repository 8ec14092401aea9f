"""Loading resource plugins by entry-point name and finding them by type."""
import pytest

from blazar import exceptions
from blazar import plugins
from blazar.plugins import base
from blazar.plugins.hosts import plugin as host_plugin


def test_load_the_host_plugin():
    loaded = plugins.load(['physical.host.plugin'])
    assert list(loaded) == ['physical:host']
    plugin = loaded['physical:host']
    assert isinstance(plugin, host_plugin.PhysicalHostPlugin)
    assert isinstance(plugin, base.ResourcePlugin)
    assert plugins.get(loaded, 'physical:host') is plugin


def test_load_nothing():
    assert plugins.load([]) == {}


def test_each_load_makes_new_instances():
    first = plugins.load(['physical.host.plugin'])['physical:host']
    second = plugins.load(['physical.host.plugin'])['physical:host']
    assert first is not second


@pytest.mark.parametrize('names', [
    ['no.such.plugin'],
    ['physical.host.plugin', 'basic.vm.plugin'],   # upstream removed it too
    ['physical:host'],  # a resource type is not a plugin name
    [''],
])
def test_unknown_plugin_name(names):
    with pytest.raises(plugins.PluginConfigurationError) as info:
        plugins.load(names)
    assert names[-1] in str(info.value)
    assert str(info.value).startswith('Cannot load plugin')


def test_upstream_only_plugin_names_are_skipped_with_a_warning(caplog):
    """An upstream Blazar configuration lists plugins this service does
    not have (yet): the manager starts without them, saying so."""
    loaded = plugins.load(['physical.host.plugin', 'virtual.floatingip.plugin',
                           'dummy.vm.plugin'])
    assert list(loaded) == ['physical:host', 'virtual:floatingip']
    assert 'dummy.vm.plugin' in caplog.text


def test_two_plugins_for_one_resource_type():
    with pytest.raises(plugins.PluginConfigurationError) as info:
        plugins.load(['physical.host.plugin', 'physical.host.plugin'])
    assert 'physical:host' in str(info.value)


@pytest.mark.parametrize('resource_type', ['virtual:instance', 'physical:hosts', '',
                                           'PHYSICAL:HOST'])
def test_get_unknown_type(resource_type):
    loaded = plugins.load(['physical.host.plugin'])
    with pytest.raises(exceptions.UnsupportedResourceType) as info:
        plugins.get(loaded, resource_type)
    assert info.value.code == 400
    assert isinstance(info.value, exceptions.InvalidInput)
    assert info.value.message == \
        'The %s resource type is not supported' % resource_type


def test_get_from_no_plugins():
    with pytest.raises(exceptions.UnsupportedResourceType):
        plugins.get({}, 'physical:host')
