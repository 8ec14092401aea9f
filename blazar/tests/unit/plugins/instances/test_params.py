import pytest

from blazar import exceptions
from blazar.plugins.instances import params


def virtual(**changes):
    values = {'resource_type': 'virtual:instance', 'vcpus': 2, 'memory_mb': 4096,
              'disk_gb': 20, 'amount': 3, 'affinity': None, 'resource_properties': ''}
    values.update(changes)
    return values


def test_a_shape_becomes_placement_resources():
    checked = params.check_virtual(virtual())
    assert checked['resources'] == {'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 20}
    assert checked['traits'] == {'required': [], 'forbidden': []}
    assert params.check_virtual(virtual(disk_gb=0))['resources'] == {
        'VCPU': 2, 'MEMORY_MB': 4096}


@pytest.mark.parametrize('text, expected', [
    ('False', False), ('true', True), ('None', None), ('null', None), ('', None),
    (None, None), (True, True), (False, False), ('0', False), ('yes', True)])
def test_affinity_accepts_what_clients_send(text, expected):
    assert params.check_virtual(virtual(affinity=text))['affinity'] is expected


def test_cli_strings_become_integers():
    checked = params.check_virtual(virtual(vcpus='2', memory_mb=' 512 ', amount='3'))
    assert (checked['vcpus'], checked['memory_mb'], checked['amount']) == (2, 512, 3)


@pytest.mark.parametrize('changes, error, field', [
    ({'vcpus': 0}, exceptions.InvalidRange, 'vcpus'),
    ({'memory_mb': 0}, exceptions.InvalidRange, 'memory_mb'),
    ({'disk_gb': -1}, exceptions.InvalidRange, 'disk_gb'),
    ({'amount': 2 ** 31}, exceptions.InvalidRange, 'amount'),
    ({'amount': 1.5}, exceptions.MalformedParameter, 'amount'),
    ({'amount': True}, exceptions.MalformedParameter, 'amount'),
    ({'vcpus': '٣'}, exceptions.MalformedParameter, 'vcpus'),
    ({'affinity': 'sometimes'}, exceptions.MalformedParameter, 'affinity'),
    ({'flavor_id': 'x'}, exceptions.InvalidInput, 'flavor_id'),
    ({'resource_properties': '["=="'}, exceptions.MalformedRequirements,
     'resource_properties'),
])
def test_bad_values_name_their_field(changes, error, field):
    with pytest.raises(error) as caught:
        params.check_virtual(virtual(**changes))
    assert field in caught.value.message


def test_missing_sizes_are_named():
    values = virtual()
    del values['memory_mb']
    with pytest.raises(exceptions.MissingParameter, match='memory_mb'):
        params.check_virtual(values)


def test_a_flavor_request_needs_its_flavor_id():
    with pytest.raises(exceptions.MissingParameter, match='flavor_id'):
        params.check_flavor_request({'amount': 1})
    with pytest.raises(exceptions.InvalidInput, match='vcpus'):
        params.check_flavor_request({'flavor_id': 'f', 'amount': 1, 'vcpus': 2})


def test_a_flavor_gives_its_resources_and_traits():
    flavor = {'id': 'f1', 'vcpus': 4, 'ram': 2048, 'disk': 10, 'ephemeral': 5, 'swap': 0,
              'extra_specs': {'resources:CUSTOM_FPGA': '1', 'trait:HW_GPU': 'required',
                              'trait:CUSTOM_SLOW': 'forbidden',
                              'hw:cpu_policy': 'dedicated'}}
    checked = params.from_flavor(params.check_flavor_request(
        {'flavor_id': 'f1', 'amount': 2}), flavor)
    assert checked['resources'] == {'PCPU': 4, 'MEMORY_MB': 2048, 'DISK_GB': 15,
                                    'CUSTOM_FPGA': 1}
    assert checked['traits'] == {'required': ['HW_GPU'], 'forbidden': ['CUSTOM_SLOW']}
    assert (checked['vcpus'], checked['memory_mb'], checked['disk_gb']) == (4, 2048, 15)
    assert checked['source_flavor'] is flavor


def test_a_flavor_trait_must_be_required_or_forbidden():
    flavor = {'id': 'f1', 'vcpus': 1, 'ram': 512, 'disk': 1,
              'extra_specs': {'trait:HW_GPU': 'preferred'}}
    with pytest.raises(exceptions.MalformedParameter, match='HW_GPU'):
        params.from_flavor({'flavor_id': 'f1', 'amount': 1}, flavor)
