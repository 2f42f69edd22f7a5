"""feedd as a service: `feedd run` (the daemon, its scheduling policy) and what systemd and
Prometheus see of it (sd_notify, metrics)."""

from feedd.service.daemon import Daemon, run_daemon
from feedd.service.health import Health, check_health
from feedd.service.plan import Plan, plan_next

__all__ = ["Daemon", "Health", "Plan", "check_health", "plan_next", "run_daemon"]
