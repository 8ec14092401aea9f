"""Records of the simulated cloud.

Plain mutable dataclasses, only ever touched under ``Cloud``'s lock.  Usage
figures (vCPUs used, ...) are deliberately not stored: they are derived
from the servers so they can never drift from what is booted.
"""
import dataclasses
import datetime
import uuid


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def iso(moment, micro=True):
    """Nova's two timestamp flavours: '...T..:..:..Z' and '.......ffffff'."""
    if moment is None:
        return None
    if micro:
        return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def new_uuid():
    return str(uuid.uuid4())


@dataclasses.dataclass
class Service:
    host: str
    binary: str = 'nova-compute'
    id: str = dataclasses.field(default_factory=new_uuid)
    int_id: int = 0
    status: str = 'enabled'
    disabled_reason: str = None
    forced_down: bool = False
    alive: bool = True          # False: the compute stopped reporting
    updated_at: datetime.datetime = dataclasses.field(default_factory=now)

    @property
    def up(self):
        return self.alive and not self.forced_down

    @property
    def enabled(self):
        return self.status == 'enabled'


@dataclasses.dataclass
class Hypervisor:
    hypervisor_hostname: str
    service_host: str
    vcpus: int
    memory_mb: int
    local_gb: int
    cpu_info: dict
    hypervisor_type: str = 'fake'
    hypervisor_version: int = 1000
    host_ip: str = '127.0.0.1'
    id: str = dataclasses.field(default_factory=new_uuid)
    int_id: int = 0


@dataclasses.dataclass
class Aggregate:
    name: str
    availability_zone: str = None
    hosts: list = dataclasses.field(default_factory=list)
    metadata: dict = dataclasses.field(default_factory=dict)
    id: int = 0
    uuid: str = dataclasses.field(default_factory=new_uuid)
    created_at: datetime.datetime = dataclasses.field(default_factory=now)
    updated_at: datetime.datetime = None


@dataclasses.dataclass
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str = None
    extra_specs: dict = dataclasses.field(default_factory=dict)
    projects: list = dataclasses.field(default_factory=list)

    def snapshot(self):
        """What a server remembers of its flavor (Nova embeds a copy)."""
        return {'id': self.id, 'name': self.name, 'vcpus': self.vcpus,
                'ram': self.ram, 'disk': self.disk,
                'ephemeral': self.ephemeral, 'swap': self.swap,
                'extra_specs': dict(self.extra_specs)}


@dataclasses.dataclass
class ServerGroup:
    name: str
    policy: str
    project_id: str
    user_id: str
    rules: dict = dataclasses.field(default_factory=dict)
    members: list = dataclasses.field(default_factory=list)
    id: str = dataclasses.field(default_factory=new_uuid)


@dataclasses.dataclass
class Server:
    name: str
    project_id: str
    user_id: str
    flavor: dict                      # Flavor.snapshot() at boot time
    image_id: str = None
    status: str = 'BUILD'
    host: str = None                  # compute service host
    node: str = None                  # hypervisor hostname
    availability_zone: str = None     # requested zone, if any
    scheduler_hints: dict = dataclasses.field(default_factory=dict)
    requested_host: str = None        # 2.74 'host' (filters still apply)
    forced_host: str = None           # 'az:host' (filters skipped)
    forced_node: str = None
    group_id: str = None
    metadata: dict = dataclasses.field(default_factory=dict)
    description: str = None
    fault: dict = None
    task_state: str = None
    reservation_id: str = dataclasses.field(
        default_factory=lambda: 'r-' + uuid.uuid4().hex[:8])
    launch_index: int = 0
    id: str = dataclasses.field(default_factory=new_uuid)
    created_at: datetime.datetime = dataclasses.field(default_factory=now)
    updated_at: datetime.datetime = dataclasses.field(default_factory=now)
    launched_at: datetime.datetime = None
    delete_at: float = None           # monotonic deadline of a slow delete

    @property
    def consumes(self):
        """Whether the server holds resources on its host."""
        return self.host is not None

    @property
    def vm_state(self):
        return {'ACTIVE': 'active', 'SHUTOFF': 'stopped', 'ERROR': 'error',
                'SHELVED_OFFLOADED': 'shelved_offloaded',
                'BUILD': 'building'}.get(self.status, self.status.lower())

    @property
    def power_state(self):
        return 1 if self.status == 'ACTIVE' else (0 if self.host is None
                                                  else 4)


@dataclasses.dataclass
class Image:
    name: str
    server_id: str
    project_id: str
    metadata: dict = dataclasses.field(default_factory=dict)
    id: str = dataclasses.field(default_factory=new_uuid)
    created_at: datetime.datetime = dataclasses.field(default_factory=now)
