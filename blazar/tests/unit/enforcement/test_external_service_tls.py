"""The policy service over https, reached through a keystoneauth session
with the [external_service] options: the CA that signed the service's
certificate (cafile), a client certificate (certfile, keyfile), insecure,
and timeout."""
import datetime
import ipaddress
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from blazar import context as blazar_context
from blazar import exceptions
from blazar.enforcement.filters import external_service
from blazar.tests import policy_server
from blazar.tests.unit.enforcement.conftest import lease


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer, issuer_key, ca=False, ip=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(_name(issuer)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path, cert=None, key=None):
    data = b''
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return str(path)


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    """A CA, the service's certificate for 127.0.0.1 and a client's."""
    tmp = tmp_path_factory.mktemp('pki')
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate('test-ca', ca_key, 'test-ca', ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate('policy', server_key, 'test-ca', ca_key, ip='127.0.0.1')
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate('blazar', client_key, 'test-ca', ca_key)
    return {'ca': _write(tmp / 'ca.pem', ca),
            'server_cert': _write(tmp / 'server.pem', server),
            'server_key': _write(tmp / 'server.key', key=server_key),
            'client_cert': _write(tmp / 'client.pem', client),
            'client_key': _write(tmp / 'client.key', key=client_key)}


def _https(pki, client_certificate=False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki['server_cert'], pki['server_key'])
    if client_certificate:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki['ca'])
    return policy_server.PolicyServer(tls=context).start()


@pytest.fixture
def session_opts(config):
    def set_options(**options):
        for name, value in options.items():
            config.set_override(name, value, group='external_service')
    return set_options


@pytest.fixture
def use(opts):
    servers = []

    def point_at(server):
        servers.append(server)
        opts(external_service_base_endpoint=server.url + '/blazar/',
             external_service_timeout=2)
        return server
    yield point_at
    for server in servers:
        server.stop()


CTX = blazar_context.RequestContext(user_id='u1', project_id='p1', roles=['member'])


def _check():
    external_service.ExternalServiceFilter().check_create(CTX, lease(1, 2))


def _refused():
    with pytest.raises(exceptions.EnforcementRefused) as info:
        _check()
    return info.value.message


def test_the_ca_file_verifies_the_service(pki, use, session_opts):
    server = use(_https(pki))
    session_opts(cafile=pki['ca'])
    _check()
    assert len(server.calls_to('/blazar/check-create')) == 1


def test_an_unknown_ca_is_refused_unless_insecure(pki, use, session_opts):
    server = use(_https(pki))
    assert 'TLS certificate could not be verified' in _refused()
    assert server.calls_to('/blazar/check-create') == []
    session_opts(insecure=True)
    _check()
    assert len(server.calls_to('/blazar/check-create')) == 1


def test_a_client_certificate_is_presented(pki, use, session_opts):
    server = use(_https(pki, client_certificate=True))
    session_opts(cafile=pki['ca'])
    assert 'could not' in _refused()
    session_opts(certfile=pki['client_cert'], keyfile=pki['client_key'])
    _check()
    (call,) = server.calls_to('/blazar/check-create')
    assert call.body['lease']['id'] == 'L'


def test_the_session_timeout_wins_over_the_old_option(opts, session_opts):
    server = policy_server.PolicyServer().start()
    try:
        server.answer('/blazar/check-create', (204, None, 1.5))
        opts(external_service_base_endpoint=server.url + '/blazar/',
             external_service_timeout=5)
        session_opts(timeout=0.3)
        assert 'no answer within 0.3 seconds' in _refused()
        session_opts(timeout=None)
        _check()
    finally:
        server.stop()
