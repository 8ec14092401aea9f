"""Default log levels: what an operator sees without tuning them."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys
    from blazar import context, rpc, service
    service.prepare(['--config-file', sys.argv[1]])
    rpc.notify(context.get_admin_context(), 'lease.create',
               {'id': 'l-1', 'name': 'probe'})
    rpc.cleanup()
''')


def test_the_log_notification_driver_reaches_the_log_by_default(tmp_path):
    # oslo.messaging is kept at WARN, but the log driver writes each
    # notification at INFO under oslo.messaging.notification.<event type>.
    log_file = tmp_path / 'blazar.log'
    config = tmp_path / 'blazar.conf'
    config.write_text(textwrap.dedent('''
        [DEFAULT]
        transport_url = fake:/
        log_file = %s
        [oslo_messaging_notifications]
        driver = log
        ''' % log_file))
    subprocess.run([sys.executable, '-c', SCRIPT, str(config)], check=True,
                   timeout=120, capture_output=True)
    lines = [line for line in log_file.read_text().splitlines()
             if 'oslo.messaging.notification.lease.create' in line]
    assert len(lines) == 1, log_file.read_text()[-2000:]
    assert ' INFO ' in lines[0]
    assert '"event_type": "lease.create"' in lines[0] and '"l-1"' in lines[0]


def test_other_oslo_messaging_chatter_stays_quiet():
    from blazar import service
    levels = dict(item.split('=') for item in service._EXTRA_LOGGERS)
    assert levels['oslo.messaging'] == 'WARN'
    assert levels['oslo.messaging.notification'] == 'INFO'
