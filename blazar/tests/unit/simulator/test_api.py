"""The simulated compute API, driven over HTTP by python-novaclient."""
import time

from novaclient import api_versions
from novaclient import exceptions as nexc
import pytest
import requests
import webob

from blazar.simulator import app as sim_app
from blazar.simulator import errors as sim_errors
from blazar.simulator.testing import novaclient_for

ADMIN = {'X-Auth-Token': 'admin:admin'}


# --- protocol --------------------------------------------------------------
def test_versions_documents(sim):
    root = requests.get(sim.url + '/').json()
    assert root['versions'][0]['id'] == 'v2.1'
    doc = requests.get(sim.compute_url).json()['version']
    assert (doc['min_version'], doc['version']) == ('2.1', '2.96')


def test_microversion_echoed(sim):
    resp = requests.get(sim.compute_url + '/flavors', headers=dict(
        ADMIN, **{'OpenStack-API-Version': 'compute 2.60'}))
    assert resp.headers['OpenStack-API-Version'] == 'compute 2.60'
    assert resp.headers['X-OpenStack-Nova-API-Version'] == '2.60'
    assert 'OpenStack-API-Version' in resp.headers['Vary']
    latest = requests.get(sim.compute_url + '/flavors', headers=dict(
        ADMIN, **{'X-OpenStack-Nova-API-Version': 'latest'}))
    assert latest.headers['X-OpenStack-Nova-API-Version'] == '2.96'
    plain = requests.get(sim.compute_url + '/flavors', headers=ADMIN)
    assert plain.headers['X-OpenStack-Nova-API-Version'] == '2.1'


def test_unsupported_microversion_406(sim):
    resp = requests.get(sim.compute_url + '/flavors', headers=dict(
        ADMIN, **{'OpenStack-API-Version': 'compute 2.200'}))
    assert resp.status_code == 406


def test_latest_negotiation_with_novaclient(sim):
    probe = novaclient_for(sim, version='2.1')
    version = api_versions.discover_version(
        probe, api_versions.APIVersion('2.latest'))
    assert version == api_versions.APIVersion('2.96')
    novaclient_for(sim, version='2.96').hypervisors.list()


def test_missing_token_401(sim):
    resp = requests.get(sim.compute_url + '/servers')
    assert resp.status_code == 401
    assert resp.json()['unauthorized']['code'] == 401


def test_x_roles_overrides_admin(sim):
    url = sim.compute_url + '/os-hypervisors'
    user = {'X-Auth-Token': 'ops:ops', 'X-Roles': 'member,admin'}
    assert requests.get(url, headers=user).status_code == 200
    demoted = dict(ADMIN, **{'X-Roles': 'reader'})
    resp = requests.get(url, headers=demoted)
    assert resp.status_code == 403
    assert resp.json()['forbidden']['code'] == 403


def _behind_keystone(headers):
    """A request as the simulator's app sees it once keystonemiddleware
    (``[simulator] auth_strategy = keystone``) has had its say."""
    return webob.Request.blank('/v2.1/servers', headers=headers)


def test_behind_keystone_the_caller_is_who_keystone_says():
    caller = sim_app.authenticate(_behind_keystone({
        'X-Auth-Token': 'a-real-token', 'X-Identity-Status': 'Confirmed',
        'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'reader, admin'}),
        keystone=True)
    assert (caller.user_id, caller.project_id, caller.is_admin) == ('u1', 'p1', True)
    member = sim_app.authenticate(_behind_keystone({
        'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u2', 'X-Project-Id': 'p2',
        'X-Roles': 'member,reader'}), keystone=True)
    assert member.is_admin is False


@pytest.mark.parametrize('status', [None, 'Invalid'])
def test_behind_keystone_a_token_it_did_not_confirm_is_401(status):
    """``<user>:<project>`` means nothing there: only Keystone's word counts."""
    headers = {'X-Auth-Token': 'admin:admin'}
    if status:
        headers['X-Identity-Status'] = status
    with pytest.raises(sim_errors.Unauthorized):
        sim_app.authenticate(_behind_keystone(headers), keystone=True)


def test_unknown_path_404_shape(sim):
    resp = requests.get(sim.compute_url + '/nothing-here', headers=ADMIN)
    assert resp.status_code == 404
    assert resp.json()['itemNotFound']['code'] == 404


@pytest.mark.parametrize('call', [
    lambda c: c.hypervisors.list(),
    lambda c: c.services.list(),
    lambda c: c.aggregates.list(),
    lambda c: c.flavors.create('x', 1, 1, 1),
    lambda c: c.servers.list(search_opts={'all_tenants': 1}),
    lambda c: c.availability_zones.list(detailed=True),
])
def test_admin_only_apis_forbidden_to_users(alice, call):
    with pytest.raises(nexc.Forbidden):
        call(alice)


# --- hypervisors / services / zones ------------------------------------------
def test_hypervisor_list_show_search(nova, cloud):
    hyps = nova.hypervisors.list()
    assert [h.hypervisor_hostname for h in hyps] == [
        'compute-1', 'compute-2', 'compute-3']
    one = nova.hypervisors.get(hyps[0].id)
    assert (one.vcpus, one.memory_mb, one.local_gb) == (8, 8192, 100)
    assert one.hypervisor_type == 'fake' and one.service['host'] == 'compute-1'
    assert isinstance(one.cpu_info, dict)
    found = nova.hypervisors.search('compute-2', detailed=True)
    assert [h.id for h in found] == [hyps[1].id]
    with pytest.raises(nexc.NotFound):
        nova.hypervisors.search('nope')
    with pytest.raises(nexc.BadRequest):
        nova.hypervisors.get('not-a-uuid')


def test_hypervisor_servers_and_usage(nova, alice):
    flavor = nova.flavors.create('small', 1024, 2, 10)
    server = alice.servers.create('vm', 'img', flavor, nics='none')
    host = getattr(nova.servers.get(server.id), 'OS-EXT-SRV-ATTR:host')
    hyp = nova.hypervisors.search(host, servers=True, detailed=True)[0]
    assert hyp.servers == [{'uuid': server.id, 'name': 'vm'}]
    assert (hyp.vcpus_used, hyp.memory_mb_used, hyp.running_vms) == (2, 1024,
                                                                      1)


def test_legacy_microversion_ids_and_search(sim):
    old = novaclient_for(sim, version='2.1')
    hyps = old.hypervisors.list()
    assert hyps[0].id == 1
    assert old.hypervisors.get(1).hypervisor_hostname == 'compute-1'
    assert [h.id for h in old.hypervisors.search('compute-3')] == [3]
    assert isinstance(old.hypervisors.get(1).cpu_info, str)


def test_2_88_drops_sizes(sim):
    new = novaclient_for(sim, version='2.88')
    hyp = new.hypervisors.list()[0]
    assert not hasattr(hyp, 'vcpus') and hasattr(hyp, 'uptime')


def test_service_updates_drive_hypervisor_state(nova, cloud):
    service = nova.services.list(host='compute-2', binary='nova-compute')[0]
    nova.services.disable_log_reason(service.id, 'maintenance')
    nova.services.force_down(service.id, True)
    hyp = nova.hypervisors.search('compute-2', detailed=True)[0]
    assert (hyp.state, hyp.status) == ('down', 'disabled')
    assert hyp.service['disabled_reason'] == 'maintenance'
    nova.services.force_down(service.id, False)
    nova.services.enable(service.id)
    hyp = nova.hypervisors.search('compute-2', detailed=True)[0]
    assert (hyp.state, hyp.status) == ('up', 'enabled')


@pytest.mark.parametrize('mode, state, status, forced', [
    ('down', 'down', 'enabled', False),
    ('forced_down', 'down', 'enabled', True),
    ('disabled', 'up', 'disabled', False),
])
def test_fail_and_recover_host(nova, cloud, mode, state, status, forced):
    cloud.fail_host('compute-1', mode, reason='test')
    service = nova.services.list(host='compute-1')[0]
    assert (service.state, service.status, service.forced_down) == (
        state, status, forced)
    hyp = nova.hypervisors.search('compute-1', detailed=True)[0]
    assert (hyp.state, hyp.status) == (state, status)
    cloud.recover_host('compute-1')
    service = nova.services.list(host='compute-1')[0]
    assert (service.state, service.status) == ('up', 'enabled')


def test_availability_zones_follow_aggregates(nova):
    agg = nova.aggregates.create('zone-a', 'az-a')
    nova.aggregates.add_host(agg, 'compute-3')
    zones = {z.zoneName: z for z in nova.availability_zones.list(False)}
    assert set(zones) == {'nova', 'az-a'}
    assert zones['az-a'].hosts is None
    detail = {z.zoneName: z for z in nova.availability_zones.list(True)}
    assert set(detail['az-a'].hosts) == {'compute-3'}
    assert 'nova-compute' in detail['az-a'].hosts['compute-3']
    assert set(detail['nova'].hosts) == {'compute-1', 'compute-2'}
    assert nova.services.list(host='compute-3')[0].zone == 'az-a'


# --- aggregates --------------------------------------------------------------
def test_aggregate_lifecycle(nova):
    agg = nova.aggregates.create('pool', None)
    assert agg.uuid and 'hosts' not in agg.to_dict()   # like Nova's create
    agg = nova.aggregates.add_host(agg, 'compute-1')
    agg = nova.aggregates.set_metadata(agg, {'a': '1', 'b': '2'})
    agg = nova.aggregates.set_metadata(agg, {'a': None, 'c': '3'})
    assert agg.metadata == {'b': '2', 'c': '3'}
    agg = nova.aggregates.update(agg, {'name': 'renamed'})
    assert nova.aggregates.get(agg.id).name == 'renamed'
    with pytest.raises(nexc.BadRequest):
        nova.aggregates.delete(agg)        # hosts remain
    nova.aggregates.remove_host(agg, 'compute-1')
    nova.aggregates.delete(agg)
    with pytest.raises(nexc.NotFound):
        nova.aggregates.get(agg.id)


def test_aggregate_errors(nova):
    agg = nova.aggregates.create('pool', 'zone-x')
    with pytest.raises(nexc.Conflict):
        nova.aggregates.create('pool', None)
    nova.aggregates.add_host(agg, 'compute-1')
    with pytest.raises(nexc.Conflict):
        nova.aggregates.add_host(agg, 'compute-1')
    with pytest.raises(nexc.NotFound):
        nova.aggregates.add_host(agg, 'no-such-host')
    with pytest.raises(nexc.NotFound):
        nova.aggregates.remove_host(agg, 'compute-2')
    with pytest.raises(nexc.NotFound):
        nova.aggregates.get(9999)
    other = nova.aggregates.create('other', 'zone-y')
    with pytest.raises(nexc.Conflict):   # one host, one zone (409, as Nova)
        nova.aggregates.add_host(other, 'compute-1')
    assert nova.aggregates.get(agg.id).metadata == {
        'availability_zone': 'zone-x'}


def test_remove_host_with_servers_from_zone_aggregate_409(nova):
    agg = nova.aggregates.create('zoned', 'zone-z')
    nova.aggregates.add_host(agg, 'compute-1')
    flavor = nova.flavors.create('f', 512, 1, 1)
    nova.servers.create('vm', 'img', flavor, nics='none', host='compute-1')
    with pytest.raises(nexc.Conflict):
        nova.aggregates.remove_host(agg, 'compute-1')


# --- flavors -----------------------------------------------------------------
def test_private_flavor_access_and_specs(nova, alice, bob):
    flavor = nova.flavors.create('res', 1024, 2, 10, is_public=False)
    assert flavor.name not in [f.name for f in alice.flavors.list()]
    with pytest.raises(nexc.NotFound):
        alice.flavors.get(flavor.id)
    nova.flavor_access.add_tenant_access(flavor, 'projA')
    with pytest.raises(nexc.Conflict):
        nova.flavor_access.add_tenant_access(flavor, 'projA')
    assert [a.tenant_id for a in nova.flavor_access.list(flavor=flavor)] == [
        'projA']
    assert alice.flavors.get(flavor.id).name == 'res'
    assert flavor.name not in [f.name for f in bob.flavors.list()]
    flavor.set_keys({'aggregate_instance_extra_specs:reservation': 'r1',
                     'hw:cpu_policy': 'shared'})
    flavor.unset_keys(['hw:cpu_policy'])
    assert alice.flavors.get(flavor.id).get_keys() == {
        'aggregate_instance_extra_specs:reservation': 'r1'}
    nova.flavor_access.remove_tenant_access(flavor, 'projA')
    with pytest.raises(nexc.NotFound):
        nova.flavor_access.remove_tenant_access(flavor, 'projA')
    private = [f.name for f in nova.flavors.list(is_public=False)]
    assert private == ['res']
    nova.flavors.delete(flavor)
    with pytest.raises(nexc.NotFound):
        nova.flavors.get(flavor.id)


def test_flavor_errors(nova):
    public = nova.flavors.create('pub', 512, 1, 1, flavorid='42')
    assert nova.flavors.get('42').id == '42'
    with pytest.raises(nexc.Conflict):
        nova.flavors.create('pub', 512, 1, 1)
    with pytest.raises(nexc.NotFound):      # no access list for public
        nova.flavor_access.list(flavor=public)
    with pytest.raises(nexc.Conflict):
        nova.flavor_access.add_tenant_access(public, 'projA')


@pytest.mark.parametrize('key, value, words', [
    ('resources:lowercase', '1', 'does not appear to be a valid extra spec'),
    ('resources:CUSTOM_X', 'one', 'is not a valid integer value'),
    ('trait:CUSTOM_T', 'maybe', 'is not one of: required, forbidden'),
    ('trait1:CUSTOM_T', 'preferred', 'is not one of'),
])
def test_extra_specs_are_validated_from_2_86(sim, key, value, words):
    """As Nova: from 2.86 the resources and trait namespaces are checked;
    before, and in namespaces it does not know, anything goes."""
    nova = novaclient_for(sim)
    flavor = nova.flavors.create('f', 512, 1, 1)
    with pytest.raises(nexc.BadRequest, match=words):
        flavor.set_keys({key: value})
    flavor.set_keys({'resources:CUSTOM_X': '1', 'trait:CUSTOM_T': 'required',
                     'resources1:VCPU': '2', 'affinity_id': 'anything',
                     'aggregate_instance_extra_specs:reservation': 'r1'})
    old = novaclient_for(sim, version='2.85')
    old.flavors.get(flavor.id).set_keys({key: value})
    assert old.flavors.get(flavor.id).get_keys()[key] == value


def test_aggregate_errors_as_nova_words_them(nova):
    first = nova.aggregates.create('a1', 'az1')
    second = nova.aggregates.create('a2', 'az2')
    nova.aggregates.add_host(first, 'compute-1')
    with pytest.raises(nexc.Conflict, match=r"already in availability zone\(s\) "
                       r"\['az1'\]"):
        nova.aggregates.add_host(second, 'compute-1')
    with pytest.raises(nexc.BadRequest, match='Cannot remove host from aggregate '
                       '%s. Reason: Host aggregate is not empty.' % first.id):
        nova.aggregates.delete(first)
    resp = requests.post(nova.client.get_endpoint() + '/os-aggregates', headers=dict(
        ADMIN, **{'OpenStack-API-Version': 'compute 2.87'}),
        json={'aggregate': {'name': 'a1'}})
    assert resp.status_code == 409
    assert resp.json() == {'conflictingRequest': {
        'code': 409, 'message': 'Aggregate a1 already exists.'}}


# --- server groups and servers -----------------------------------------------
def test_server_groups(nova, alice, bob):
    group = alice.server_groups.create(name='g', policy='affinity')
    assert alice.server_groups.get(group.id).policy == 'affinity'
    assert [g.id for g in alice.server_groups.list()] == [group.id]
    assert bob.server_groups.list() == []
    with pytest.raises(nexc.NotFound):
        bob.server_groups.get(group.id)
    assert [g.id for g in nova.server_groups.list(all_projects=True)] == [
        group.id]
    with pytest.raises(nexc.BadRequest):
        alice.server_groups.create(name='bad', policy='cluster')
    alice.server_groups.delete(group.id)
    with pytest.raises(nexc.NotFound):
        alice.server_groups.get(group.id)


def test_only_the_groups_project_boots_into_it(nova, alice, bob):
    """As Nova (InstanceGroup lookups are project-scoped for non-admins):
    another project's group hint is a 400, as an unknown group is."""
    flavor = nova.flavors.create('small', 512, 1, 1)
    group = alice.server_groups.create(name='g', policy='anti-affinity')
    mine = alice.servers.create('a', 'img', flavor, nics='none',
                                scheduler_hints={'group': group.id})
    assert alice.servers.get(mine.id).status == 'ACTIVE'
    with pytest.raises(nexc.BadRequest, match='Instance group %s could not be '
                       'found' % group.id):
        bob.servers.create('b', 'img', flavor, nics='none',
                           scheduler_hints={'group': group.id})
    admins = nova.server_groups.create(name='admins', policy='anti-affinity')
    with pytest.raises(nexc.BadRequest, match='could not be found'):
        alice.servers.create('c', 'img', flavor, nics='none',
                             scheduler_hints={'group': admins.id})
    assert nova.servers.create('d', 'img', flavor, nics='none',
                               scheduler_hints={'group': group.id})


def test_servers_list_filters(nova, alice, bob):
    small = nova.flavors.create('small', 512, 1, 1)
    other = nova.flavors.create('other', 512, 1, 1)
    a1 = alice.servers.create('a1', 'img', small, nics='none')
    alice.servers.create('a2', 'img', other, nics='none')
    b1 = bob.servers.create('b1', 'img', small, nics='none')
    assert {s.name for s in alice.servers.list()} == {'a1', 'a2'}
    everyone = nova.servers.list(search_opts={'all_tenants': 1})
    assert {s.name for s in everyone} == {'a1', 'a2', 'b1'}
    assert nova.servers.list() == []    # admin's own project
    by_flavor = nova.servers.list(search_opts={'all_tenants': 1,
                                               'flavor': small.id})
    assert {s.id for s in by_flavor} == {a1.id, b1.id}
    host = getattr(nova.servers.get(a1.id), 'OS-EXT-SRV-ATTR:host')
    on_host = nova.servers.list(search_opts={'all_tenants': 1, 'host': host})
    assert a1.id in {s.id for s in on_host}
    assert all(getattr(s, 'OS-EXT-SRV-ATTR:host') == host for s in on_host)
    with pytest.raises(nexc.NotFound):
        bob.servers.get(a1.id)
    page = nova.servers.list(search_opts={'all_tenants': 1}, limit=2)
    assert len(page) == 2
    assert len(nova.servers.list(search_opts={'all_tenants': 1},
                                 limit=-1)) == 3


def test_server_views(nova, alice):
    flavor = nova.flavors.create('small', 512, 1, 1)
    server = alice.servers.create('vm', 'img-1', flavor, nics='none',
                                  meta={'k': 'v'})
    mine = alice.servers.get(server.id)
    assert mine.status == 'ACTIVE' and mine.tenant_id == 'projA'
    assert mine.flavor['original_name'] == 'small'
    assert mine.image['id'] == 'img-1' and mine.metadata == {'k': 'v'}
    assert not hasattr(mine, 'OS-EXT-SRV-ATTR:host')
    admin_view = nova.servers.get(server.id)
    assert getattr(admin_view, 'OS-EXT-SRV-ATTR:host').startswith('compute-')
    assert admin_view.host_status == 'UP'


def test_networks_required_from_2_37(nova):
    flavor = nova.flavors.create('small', 512, 1, 1)
    with pytest.raises(nexc.BadRequest):
        nova.servers.create('vm', 'img', flavor, nics='auto',
                            host='nope')        # unknown requested host
    resp = requests.post(nova.client.get_endpoint() + '/servers', headers=dict(
        ADMIN, **{'OpenStack-API-Version': 'compute 2.87'}),
        json={'server': {'name': 'x', 'flavorRef': flavor.id}})
    assert resp.status_code == 400
    assert 'networks' in resp.json()['badRequest']['message']


def test_server_actions(nova, alice, cloud):
    flavor = nova.flavors.create('small', 512, 1, 1)
    sid = alice.servers.create('vm', 'img', flavor, nics='none').id
    image_id = alice.servers.create_image(sid, 'snap')
    assert [i['name'] for i in cloud.list_images()] == ['snap']
    assert cloud.list_images()[0]['id'] == image_id
    alice.servers.stop(sid)
    assert alice.servers.get(sid).status == 'SHUTOFF'
    with pytest.raises(nexc.Conflict):
        alice.servers.stop(sid)
    alice.servers.start(sid)
    alice.servers.shelve(sid)
    shelved = nova.servers.get(sid)
    assert shelved.status == 'SHELVED_OFFLOADED'
    assert getattr(shelved, 'OS-EXT-SRV-ATTR:host') is None
    alice.servers.unshelve(sid)
    assert alice.servers.get(sid).status == 'ACTIVE'
    alice.servers.delete(sid)
    with pytest.raises(nexc.NotFound):
        alice.servers.get(sid)


def test_slow_delete(nova, cloud):
    cloud.delete_delay = 0.3
    flavor = nova.flavors.create('small', 512, 1, 1)
    sid = nova.servers.create('vm', 'img', flavor, nics='none').id
    nova.servers.delete(sid)
    assert getattr(nova.servers.get(sid), 'OS-EXT-STS:task_state') == \
        'deleting'
    time.sleep(0.4)
    with pytest.raises(nexc.NotFound):
        nova.servers.get(sid)


def test_create_image_location_header_before_2_45(sim, nova):
    flavor = nova.flavors.create('small', 512, 1, 1)
    sid = nova.servers.create('vm', 'img', flavor, nics='none').id
    old = novaclient_for(sim, version='2.44')
    assert old.servers.create_image(sid, 'snap')


def test_multi_create(nova):
    flavor = nova.flavors.create('small', 512, 1, 1)
    nova.servers.create('many', 'img', flavor, nics='none', min_count=3)
    names = sorted(s.name for s in nova.servers.list())
    assert names == ['many-1', 'many-2', 'many-3']
