"""The periodic jobs, all of them, run by the Procfile's `cron` process (RQ's cron scheduler):

    rq cron --url "$REDIS_URL" lms.cron

Each enqueues `lms.core.tasks.run_job` with a job's path, as `enqueue` does, so that a worker runs
it inside the app's context. One cron process is enough (several would enqueue each job several
times: harmless for these, which are idempotent).
"""

from rq import cron

from config import load_config
from lms.core.tasks import run_job

HOURLY = 3600
DAILY = 24 * HOURLY
RELAY_INTERVAL_SECONDS = load_config()["WEBHOOK_RELAY_INTERVAL_SECONDS"]

cron.register(run_job, "default", args=("lms.audit.service:purge_expired_entries", (), {}), interval=HOURLY,
              name="purge-expired-audit-entries")
cron.register(run_job, "default", args=("lms.privacy.service:purge_expired_exports", (), {}), interval=HOURLY,
              name="purge-expired-data-exports")
cron.register(run_job, "webhooks", args=("lms.webhooks.relay:relay", (), {}), interval=RELAY_INTERVAL_SECONDS,
              name="webhooks-relay")
cron.register(run_job, "default", args=("lms.sync.service:prune", (), {}), interval=DAILY,
              name="prune-expired-tombstones")
