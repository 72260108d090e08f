"""gunicorn settings of the API: ``gunicorn -c gunicorn.conf.py wsgi:app`` (the Dockerfile's command).

Its variables are declared in ``service/config.py`` like every other (README, Configuration); anything else can
still be changed on the command line or in ``GUNICORN_CMD_ARGS``, which gunicorn reads over this file.
"""

from __future__ import annotations

import glob
import os
import tempfile
from typing import Any

from service.config import read_variables

_env = read_variables(os.environ, "WEB_CONCURRENCY", "TRUSTED_PROXIES", "METRICS_PORT")

# Before the app is imported (preload below): prometheus_client picks its multiprocess mode from the environment
# when the first metric is made. A directory of our own per start unless the operator names one (a tmpfs).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="vcc-metrics-"))

bind = ["0.0.0.0:8000"]
# sync workers, one per core the process may use (README, Capacity)
workers = _env["WEB_CONCURRENCY"] or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                      else os.cpu_count() or 2)
worker_class = "sync"
preload_app = True  # import once in the master and fork: faster starts, shared pages, a broken app stops the start
timeout = 60  # a worker silent this long is killed: the largest batch (1,000 items) or import takes a few seconds
graceful_timeout = 30  # on SIGTERM, requests in progress get this long to finish before workers are killed
keepalive = 5  # behind a proxy that reuses connections
max_requests = 5000  # recycle workers now and then (slow leaks), at staggered times so they never all restart
max_requests_jitter = 500
# Forwarded headers: the client address is the app's business (ProxyFix, TRUSTED_PROXIES hops of X-Forwarded-For);
# gunicorn's own trust covers X-Forwarded-Proto and friends. With no proxy in front nobody may set them; behind
# proxies, the one talking to us is a proxy (keep the port unreachable from anywhere else).
forwarded_allow_ips = "*" if _env["TRUSTED_PROXIES"] else ""
accesslog = None  # the app logs every request itself (vcc.access, with its request id): one line per request
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
                "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True}},
}


def on_starting(server: Any) -> None:
    """Counts of an earlier run in a named directory would be added to this run's: start from none."""
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def when_ready(server: Any) -> None:
    if _env["METRICS_PORT"]:
        from service import metrics

        metrics.serve_port(_env["METRICS_PORT"])  # from the master: the sum of every worker, workers stay free
        server.log.info("metrics on port %s", _env["METRICS_PORT"])


def post_fork(server: Any, worker: Any) -> None:
    """The master imported the app (preload): a database connection it may have opened must not be shared."""
    from service.db import db
    from wsgi import app

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def child_exit(server: Any, worker: Any) -> None:
    """prometheus_client's bookkeeping for a worker that is gone (its ``live*`` gauges leave the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
