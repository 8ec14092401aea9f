"""JSON bodies of the simulated Nova, shaped per microversion.

Clients (python-novaclient, openstacksdk, Blazar) parse these the way they
parse Nova's, so field names, id types (integers before 2.53, UUIDs after)
and fields that come and go with microversions follow Nova's API reference.
``v`` is always the negotiated (major, minor) tuple.
"""
import hashlib
import json

from blazar.simulator import model

HYPERVISOR_SIZES = ('vcpus', 'memory_mb', 'local_gb', 'vcpus_used',
                    'memory_mb_used', 'local_gb_used', 'running_vms')


def _links(base, kind, ident):
    return [{'rel': 'self', 'href': '%s/v2.1/%s/%s' % (base, kind, ident)},
            {'rel': 'bookmark', 'href': '%s/%s/%s' % (base, kind, ident)}]


# --- hypervisors / services / zones ----------------------------------------
def hypervisor(h, v, detail=True):
    uuids = v >= (2, 53)
    body = {'id': h['id'] if uuids else h['int_id'],
            'hypervisor_hostname': h['hypervisor_hostname'],
            'state': h['state'], 'status': h['status']}
    if detail:
        body.update({
            'hypervisor_type': h['hypervisor_type'],
            'hypervisor_version': h['hypervisor_version'],
            'host_ip': h['host_ip'],
            'service': {'host': h['service']['host'],
                        'id': (h['service']['id'] if uuids
                               else h['service']['int_id']),
                        'disabled_reason': h['service']['disabled_reason']},
        })
        if v >= (2, 88):
            body['uptime'] = None
        else:
            body.update({key: h[key] for key in HYPERVISOR_SIZES})
            body.update({
                'cpu_info': (h['cpu_info'] if v >= (2, 28)
                             else json.dumps(h['cpu_info'])),
                'current_workload': 0,
                'free_ram_mb': h['memory_mb'] - h['memory_mb_used'],
                'free_disk_gb': h['local_gb'] - h['local_gb_used'],
                'disk_available_least': h['local_gb'] - h['local_gb_used'],
            })
    if 'servers' in h and (h['servers'] or v >= (2, 75)):
        body['servers'] = h['servers']
    return body


def service(s, v):
    body = {'id': s['id'] if v >= (2, 53) else s['int_id'],
            'binary': s['binary'], 'host': s['host'], 'zone': s['zone'],
            'status': s['status'], 'state': s['state'],
            'updated_at': model.iso(s['updated_at']),
            'disabled_reason': s['disabled_reason']}
    if v >= (2, 11):
        body['forced_down'] = s['forced_down']
    return body


def zones(entries, detail):
    info = []
    for zone in entries:
        hosts = None
        if detail:
            hosts = {host: {s['binary']: {
                'available': s['state'] == 'up',
                'active': s['status'] == 'enabled',
                'updated_at': model.iso(s['updated_at'])}}
                for host, s in zone['hosts'].items()}
        info.append({'zoneName': zone['name'],
                     'zoneState': {'available': zone['available']},
                     'hosts': hosts})
    return {'availabilityZoneInfo': info}


# --- aggregates --------------------------------------------------------------
def aggregate(a, v, created=False):
    body = {'id': a['id'], 'name': a['name'],
            'availability_zone': a['availability_zone'],
            'created_at': model.iso(a['created_at']),
            'updated_at': model.iso(a['updated_at']),
            'deleted_at': None, 'deleted': False}
    if not created:   # Nova's create answer has neither hosts nor metadata
        body['hosts'] = a['hosts']
        body['metadata'] = a['metadata']
    if v >= (2, 41):
        body['uuid'] = a['uuid']
    return body


# --- flavors -----------------------------------------------------------------
def flavor(f, v, base, detail=True):
    body = {'id': f['id'], 'name': f['name'],
            'links': _links(base, 'flavors', f['id'])}
    if v >= (2, 55):
        body['description'] = f['description']
    if not detail:
        return body
    body.update({
        'vcpus': f['vcpus'], 'ram': f['ram'], 'disk': f['disk'],
        'OS-FLV-EXT-DATA:ephemeral': f['ephemeral'],
        'OS-FLV-DISABLED:disabled': False,
        'swap': f['swap'] if (f['swap'] or v >= (2, 75)) else '',
        'rxtx_factor': f['rxtx_factor'],
        'os-flavor-access:is_public': f['is_public'],
    })
    if v >= (2, 61):
        body['extra_specs'] = f['extra_specs']
    return body


def flavor_access(flavor_id, projects):
    return {'flavor_access': [{'flavor_id': flavor_id, 'tenant_id': p}
                              for p in projects]}


# --- server groups -----------------------------------------------------------
def server_group(g, v):
    body = {'id': g['id'], 'name': g['name'], 'members': g['members']}
    if v >= (2, 64):
        body.update(policy=g['policy'], rules=g['rules'])
    else:
        body.update(policies=[g['policy']], metadata={})
    if v >= (2, 13):
        body.update(project_id=g['project_id'], user_id=g['user_id'])
    return body


# --- servers -----------------------------------------------------------------
def server_brief(s, base):
    return {'id': s['id'], 'name': s['name'],
            'links': _links(base, 'servers', s['id'])}


def _server_flavor(s, v, base, caller):
    f = s['flavor']
    if v < (2, 47):
        return {'id': f['id'], 'links': _links(base, 'flavors', f['id'])[1:]}
    body = {'vcpus': f['vcpus'], 'ram': f['ram'], 'disk': f['disk'],
            'ephemeral': f['ephemeral'], 'swap': f['swap'],
            'original_name': f['name']}
    if caller.is_admin or caller.project_id == s['project_id']:
        body['extra_specs'] = f['extra_specs']
    return body


def server(s, v, base, caller, show=False):
    host_id = ''
    if s['host']:
        host_id = hashlib.sha224(
            (s['project_id'] + s['host']).encode()).hexdigest()
    body = server_brief(s, base)
    body.update({
        'status': s['status'], 'tenant_id': s['project_id'],
        'user_id': s['user_id'], 'metadata': s['metadata'],
        'hostId': host_id,
        'image': ({'id': s['image_id'],
                   'links': _links(base, 'images', s['image_id'])[1:]}
                  if s['image_id'] else ''),
        'flavor': _server_flavor(s, v, base, caller),
        'created': model.iso(s['created_at'], micro=False),
        'updated': model.iso(s['updated_at'], micro=False),
        'addresses': {}, 'accessIPv4': '', 'accessIPv6': '',
        'OS-DCF:diskConfig': 'MANUAL',
        'OS-EXT-AZ:availability_zone': s['zone'],
        'config_drive': '', 'key_name': None,
        'OS-SRV-USG:launched_at': model.iso(s['launched_at']),
        'OS-SRV-USG:terminated_at': None,
        'OS-EXT-STS:task_state': s['task_state'],
        'OS-EXT-STS:vm_state': s['vm_state'],
        'OS-EXT-STS:power_state': s['power_state'],
        'os-extended-volumes:volumes_attached': [],
        'security_groups': [{'name': 'default'}],
    })
    if s['status'] in ('ACTIVE', 'BUILD'):
        body['progress'] = 100 if s['status'] == 'ACTIVE' else 0
    if s['fault']:
        body['fault'] = dict(s['fault'])
    if caller.is_admin:
        body.update({
            'OS-EXT-SRV-ATTR:host': s['host'],
            'OS-EXT-SRV-ATTR:hypervisor_hostname': s['node'],
            'OS-EXT-SRV-ATTR:instance_name':
                'instance-%s' % s['id'].split('-')[0],
        })
        if v >= (2, 3):
            body.update({
                'OS-EXT-SRV-ATTR:reservation_id': s['reservation_id'],
                'OS-EXT-SRV-ATTR:launch_index': s['launch_index'],
                'OS-EXT-SRV-ATTR:kernel_id': '',
                'OS-EXT-SRV-ATTR:ramdisk_id': '',
                'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
                'OS-EXT-SRV-ATTR:user_data': None,
            })
        if v >= (2, 16):
            body['host_status'] = s['host_status']
    if (caller.is_admin and v >= (2, 3)) or v >= (2, 90):
        body['OS-EXT-SRV-ATTR:hostname'] = s['name']
    if v >= (2, 9):
        body['locked'] = False
    if v >= (2, 19):
        body['description'] = s['description']
    if v >= (2, 26):
        body['tags'] = []
    if v >= (2, 63):
        body['trusted_image_certificates'] = None
    if v >= (2, 73):
        body['locked_reason'] = None
    if v >= (2, 96):
        body['pinned_availability_zone'] = s['availability_zone']
    if show and v >= (2, 71):
        body['server_groups'] = s['server_groups']
    return body


def server_created(s, base):
    body = server_brief(s, base)
    del body['name']    # Nova's create answer has id and links, no name
    body.update({'OS-DCF:diskConfig': 'MANUAL',
                 'security_groups': [{'name': 'default'}],
                 'adminPass': 'simulated'})
    return body
