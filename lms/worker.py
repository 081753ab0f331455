"""The RQ worker class of the Procfile's `worker` line.

    rq worker --url "$REDIS_URL" --worker-class lms.worker.AppWorker --with-scheduler emails default

Jobs are `lms.core.tasks.run_job` calls, which run inside the app's context; this class builds that
app once, in the worker's main process, before it forks a work horse per job. Each horse inherits
the built app instead of building its own. The main process never opens a database connection, so
no pooled connection crosses a fork; each horse opens its own and closes it with the horse.

A starting worker also queues a webhook relay run (whatever was committed while no worker ran is
delivered now, and the run schedules the periodic ones that follow) and a tombstone pruning run
(which schedules the next day's).
"""

from __future__ import annotations

from typing import Any

from rq import Worker

from lms.core.tasks import enqueue, worker_app
from lms.sync.service import prune_daily
from lms.webhooks.relay import nudge


class AppWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = worker_app()  # fail fast on a bad configuration, before taking any job
        with app.app_context():
            if "webhooks" in self.queue_names():
                nudge()
            if "default" in self.queue_names():
                enqueue(prune_daily, inline=False)
