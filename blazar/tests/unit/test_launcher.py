"""What SIGHUP and SIGTERM do inside a process (blazar/launcher.py); the
signals themselves are sent to real processes in
blazar/tests/integration/test_lifecycle.py."""
import logging

from oslo_config import cfg
from oslo_log import log as oslo_log

from blazar import launcher


def test_the_stop_budget_leaves_room_before_the_alarm(config):
    launcher.register_opts(config)
    for timeout, budget in ((60, 48.0), (6, 4.8), (2, 1.0), (1, 0.5)):
        config.set_override('graceful_shutdown_timeout', timeout)
        assert launcher.stop_budget() == budget
    config.set_override('graceful_shutdown_timeout', 0)
    assert launcher.stop_budget() is None
    assert launcher.Deadline(None).left() is None
    assert 0 < launcher.Deadline(5).left() <= 5
    assert launcher.Deadline(-1).left(floor=0.1) == 0.1


def test_reload_mutates_the_log_level_and_reopens_log_files(tmp_path):
    conf = cfg.ConfigOpts()
    oslo_log.register_options(conf)
    launcher.register_opts(conf)
    log_file = tmp_path / 'blazar.log'
    config = tmp_path / 'blazar.conf'
    config.write_text('[DEFAULT]\ndebug = false\nlog_file = %s\n' % log_file)
    conf([], project='blazar', default_config_files=[str(config)])
    saved = launcher.CONF
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    launcher.CONF = conf
    try:
        oslo_log.setup(conf, 'blazar-test')
        logger = logging.getLogger('blazar.test.launcher')
        logger.debug('hidden')
        assert root.level == logging.INFO
        # logrotate moves the file away, the configuration changes.
        log_file.rename(tmp_path / 'blazar.log.1')
        config.write_text(config.read_text().replace('debug = false', 'debug = true'))
        launcher.reload_configuration()
        assert conf.debug is True
        assert root.level == logging.DEBUG
        logger.debug('shown after the reload')
        for handler in root.handlers:
            handler.flush()
        assert 'shown after the reload' in log_file.read_text()
        assert 'hidden' not in log_file.read_text()
        assert 'hidden' not in (tmp_path / 'blazar.log.1').read_text()
    finally:
        launcher.CONF = saved
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def test_a_broken_file_keeps_the_old_values(tmp_path, caplog):
    conf = cfg.ConfigOpts()
    oslo_log.register_options(conf)
    launcher.register_opts(conf)
    config = tmp_path / 'blazar.conf'
    config.write_text('[DEFAULT]\ngraceful_shutdown_timeout = 7\n')
    conf([], project='blazar', default_config_files=[str(config)])
    saved = launcher.CONF
    launcher.CONF = conf
    try:
        config.write_text('[DEFAULT\ngraceful_shutdown_timeout = 9\n')
        with caplog.at_level(logging.ERROR, logger='blazar.launcher'):
            launcher.reload_configuration()
        assert conf.graceful_shutdown_timeout == 7
        assert 'keeping the old values' in caplog.text
    finally:
        launcher.CONF = saved
