"""Process lifecycle of blazar-api, blazar-manager and blazar-all.

They run under cotyledon, the process supervisor oslo.service's threading
backend is built on: a master process forks the workers (``[api] workers``
of them for the API, one for the manager) and supervises them.

* SIGHUP: the master and every worker mutate the configuration (options
  marked mutable take their new values: the log level with ``debug``
  among them) and reopen their log files (after logrotate). Nothing
  restarts: the processes stay up.
* SIGTERM: each worker stops taking work, finishes what it holds within
  ``graceful_shutdown_timeout`` seconds and lets go of the rest (claims
  are released in the store for another manager to take at once), then
  exits; the master exits when they have.
* SIGINT (Ctrl-C): as SIGTERM; a second one exits at once.
* SIGUSR2: a Guru Meditation Report (oslo.reports) on standard error, or
  in ``[oslo_reports] log_dir``.
"""
import logging
import os
import signal
import sys
import time

import cotyledon
from cotyledon import oslo_config_glue
from oslo_config import cfg
from oslo_reports import guru_meditation_report as gmr
from oslo_reports import opts as gmr_opts

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class _Version:
    """What oslo.reports prints of the product."""

    @staticmethod
    def vendor_string():
        return 'OpenStack'

    @staticmethod
    def product_string():
        return 'Blazar'

    @staticmethod
    def version_string_with_package():
        try:
            from importlib import metadata
            return metadata.version('blazar')
        except Exception:  # noqa: BLE001  running from a bare checkout
            return 'unknown'


def register_opts(conf=CONF):
    """``graceful_shutdown_timeout`` and ``log_options`` (the names
    oslo.service gives them), and the ``[oslo_reports]`` group."""
    oslo_config_glue.register_opts(conf)
    gmr_opts.set_defaults(conf)


def list_opts():
    return oslo_config_glue.list_opts()


def setup_reports(service_name):
    """Guru Meditation Reports on SIGUSR2 (inherited by forked workers)."""
    gmr.TextGuruMeditation.setup_autorun(_Version, service_name=service_name,
                                         conf=CONF)


def reopen_logs():
    """Reopen every log file handler (the file may have been rotated)."""
    for handler in _file_handlers():
        handler.acquire()
        try:
            if handler.stream is not None:
                handler.stream.close()
            handler.stream = handler._open()
        except OSError:
            LOG.exception('Could not reopen %s', handler.baseFilename)
        finally:
            handler.release()


def _file_handlers():
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)]
    seen = []
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler) and handler not in seen:
                seen.append(handler)
    return seen


def reload_configuration():
    """What SIGHUP does in every process: take the mutable options' new
    values (oslo.log's hook applies ``debug``) and reopen the logs."""
    reopen_logs()
    try:
        CONF.mutate_config_files()
    except Exception:  # noqa: BLE001  a broken file must not kill the process
        LOG.exception('Reloading the configuration failed; keeping the old values')
        return
    LOG.info('Configuration reloaded (pid %d); debug is %s', os.getpid(), CONF.debug)


def stop_budget():
    """Seconds a worker may spend stopping: a little under
    ``graceful_shutdown_timeout`` so that claims are released before the
    supervisor's alarm ends the process; None when the timeout is 0
    (endless)."""
    timeout = CONF.graceful_shutdown_timeout
    if not timeout:
        return None
    return max(timeout - max(1.0, timeout * 0.2), timeout * 0.5)


class Deadline:
    """A point in time a stop must keep to, handed out as timeouts."""

    def __init__(self, seconds):
        self.end = None if seconds is None else time.monotonic() + seconds

    def left(self, floor=0.0):
        if self.end is None:
            return None
        return max(self.end - time.monotonic(), floor)


class Service(cotyledon.Service):
    """A worker process; subclasses build their objects in ``start`` (after
    the fork: no thread, connection or engine crosses it) and tear them
    down in ``stop(deadline)``."""

    def __init__(self, worker_id):
        super().__init__(worker_id)
        self._stopped = False
        # Ctrl-C reaches the whole process group: the supervisor turns it
        # into a graceful stop of its workers (_Supervisor).
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def start(self):
        raise NotImplementedError

    def stop(self, deadline):
        raise NotImplementedError

    def run(self):
        self.start()

    def reload(self):
        reload_configuration()

    def terminate(self):
        if self._stopped:
            return
        self._stopped = True
        LOG.info('%s(%d) stopping (pid %d), graceful_shutdown_timeout %ss', self.name,
                 self.worker_id, os.getpid(), CONF.graceful_shutdown_timeout)
        self.stop(Deadline(stop_budget()))
        LOG.info('%s(%d) stopped', self.name, self.worker_id)


class _Supervisor(cotyledon.ServiceManager):
    """The first SIGINT stops gracefully, as SIGTERM (claims released);
    a second one exits at once."""

    _interrupted = False

    def _on_signal_received(self, sig):
        if sig == signal.SIGINT and not self._interrupted:
            self._interrupted = True
            LOG.info('Interrupted: stopping gracefully (again to exit at once)')
            sig = signal.SIGTERM
        super()._on_signal_received(sig)


def launch(service_class, workers=1, args=()):
    """Run ``workers`` processes of ``service_class`` under a supervisor
    until SIGTERM or SIGINT; returns when they have stopped."""
    from blazar.db.api import core as db_core
    # The master's engine (the schema check, the migration of blazar-all)
    # is closed before any fork: no connection is shared with a worker.
    db_core.reset_facade()
    manager = _Supervisor()
    oslo_config_glue.link(manager, CONF, reload_method='mutate')
    manager.register_hooks(on_reload=reopen_logs)
    manager.add(service_class, workers=workers, args=args)
    try:
        manager.run()
    except SystemExit as exc:
        # The workers are gone: leave at once, as they do, rather than
        # spend seconds in the interpreter's teardown past the alarm of
        # graceful_shutdown_timeout.
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
