"""Horizon's Reservations panel (blazar-dashboard, from the package index)
against this service, driven in Debian's Chromium.

The stack, started once for the tier and stopped after its last test: a
Keystone of this tier's own (its catalog's ``reservation`` endpoints point
at this tier's API), blazar-api,
blazar-manager and blazar-simulator as separate processes over RabbitMQ on
MariaDB with both host and instance plugins (the Keystone tier's
``running_deployment``), three enrolled hosts with an extra capability,
Horizon from blazar/tests/horizon_fixture.py, and one headless Chromium
driven by Playwright (its pip wheel carries the driver; the browser is the
system one, never downloaded).

Every page the tests look at is kept as a PNG under
``test-artifacts/horizon/`` of the checkout (``$BLAZAR_HORIZON_ARTIFACTS``
overrides), numbered in the order taken; the directory's PNGs are cleared
when the tier starts so it shows one run.

Skips, saying why, when MariaDB or RabbitMQ does not answer, when Keystone,
Horizon or Chromium cannot be installed, or when Playwright is not in the
test virtualenv. Nothing else skips.
"""
import os
import pathlib
import sys

import pytest

from blazar.tests import backends
from blazar.tests import horizon_fixture
from blazar.tests import keystone_fixture
from blazar.tests.integration.keystone import conftest as keystone_tier

PLUGINS = 'physical.host.plugin,virtual.instance.plugin'
# name -> extra capabilities given when the host is enrolled
HOSTS = {'compute-1': {'gpu': 'a100', 'rack': 'r1'},
         'compute-2': {'gpu': 'a100', 'rack': 'r2'},
         'compute-3': {'gpu': 'none', 'rack': 'r2'}}
ARTIFACTS = pathlib.Path(os.environ.get('BLAZAR_HORIZON_ARTIFACTS')
                         or horizon_fixture.ROOT / 'test-artifacts' / 'horizon')
# Generous: the machine has two cores and runs Keystone, three Blazar
# processes, Horizon and Chromium at once.
PAGE_TIMEOUT_MS = 90_000


def _say(config):
    """Lines on the terminal while pytest captures output: how long the
    installs and the starts took."""
    reporter = config.pluginmanager.get_plugin('terminalreporter')
    capture = config.pluginmanager.get_plugin('capturemanager')

    def say(message):
        if reporter is None or capture is None:
            print('[horizon tier] %s' % message, file=sys.stderr)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line('[horizon tier] %s' % message)
    return say


@pytest.fixture(scope='package')
def _servers():
    """The tier's preconditions that cost nothing to check: first, so a
    machine without them skips before installing anything."""
    for server in ('mariadb', 'rabbitmq'):
        backends.require(server)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip('the Python package playwright is not installed in the test '
                    'virtualenv (pip install -r test-requirements.txt)')


@pytest.fixture(scope='package')
def chromium(_servers, request):
    try:
        return horizon_fixture.ensure_chromium(_say(request.config))
    except horizon_fixture.Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope='package')
def keystone(_servers, request, tmp_path_factory):
    say = _say(request.config)
    try:
        keystone_fixture.ensure_venv(say)
    except keystone_fixture.Unavailable as exc:
        pytest.skip(str(exc))
    with keystone_fixture.running_keystone(tmp_path_factory.mktemp('hz-keystone'),
                                           say) as server:
        yield server


@pytest.fixture(scope='package')
def deployment(keystone, tmp_path_factory):
    with keystone_tier.running_deployment(keystone, tmp_path_factory.mktemp('hz-deployment'),
                                          plugins=PLUGINS) as running:
        admin = keystone.session('admin')
        for name, extras in HOSTS.items():
            resp = admin.post(running.url + '/os-hosts', json=dict(extras, name=name),
                              raise_exc=False)
            assert resp.status_code == 201, resp.text
        yield running


@pytest.fixture(scope='package')
def horizon(deployment, request, tmp_path_factory):
    say = _say(request.config)
    try:
        horizon_fixture.ensure_venv(say)
    except horizon_fixture.Unavailable as exc:
        pytest.skip(str(exc))
    with horizon_fixture.running_horizon(tmp_path_factory.mktemp('horizon'),
                                         deployment.keystone.auth_url, say) as server:
        yield server


@pytest.fixture(scope='package')
def browser(chromium):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Screenshots:
    """Numbered PNGs of the pages looked at, in ``ARTIFACTS``."""

    def __init__(self, directory):
        self.directory = directory
        self.taken = []

    def take(self, page, name):
        path = self.directory / ('%02d-%s.png' % (len(self.taken) + 1, name))
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture(scope='package')
def screenshots():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob('*.png'):
        old.unlink()
    return Screenshots(ARTIFACTS)


class Dashboard:
    """Horizon as one user sees it: a browser context of its own (cookies,
    session), logged in through the login form."""

    def __init__(self, browser, horizon, keystone, screenshots, user):
        self.url = horizon.url
        self.horizon = horizon
        self.user = keystone.users[user]
        self.screenshots = screenshots
        self.context = browser.new_context(viewport={'width': 1400, 'height': 900},
                                           timezone_id='UTC')
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.page = self.context.new_page()

    def login(self):
        page = self.page
        page.goto(self.url + '/auth/login/')
        page.fill('#id_username', self.user.name)
        page.fill('#id_password', self.user.password)
        page.click('#loginBtn')
        page.wait_for_url(lambda url: '/auth/login' not in url)
        # The top bar names the user and the project it is scoped to.
        top = page.inner_text('nav.navbar')
        assert self.user.name in top and self.user.project in top, (top, self.horizon.logs())
        return self

    def open(self, path):
        """Go to ``path`` and wait for its "load" event: the tables are
        drawn by the server, and Horizon's scripts have run by then."""
        self.page.goto(self.url + path)
        return self.page

    def shot(self, name):
        return self.screenshots.take(self.page, name)

    def close(self):
        self.context.close()


@pytest.fixture(scope='package')
def _dashboards(browser, horizon, deployment, screenshots):
    opened = {}
    yield opened
    for board in opened.values():
        board.close()


@pytest.fixture
def dashboard(_dashboards, browser, horizon, deployment, screenshots):
    """``dashboard(user)``: Horizon logged in as ``user``; one browser
    context per user for the tier (logging in once, as a person would)."""
    def login(user):
        if user not in _dashboards:
            _dashboards[user] = Dashboard(browser, horizon, deployment.keystone,
                                          screenshots, user).login()
        return _dashboards[user]
    return login
