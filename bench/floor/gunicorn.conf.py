"""gunicorn settings of the floor app: those of the project's gunicorn.conf.py, as they resolve in
this environment (worker class, workers, preloading, threads, keep-alive, timeouts, logging),
without its server hooks, which are the LMS app's (reading that file checks the LMS configuration:
the floor runs in the app's environment). bench/run.py adds `-b` and, for `--floor-worker-class`,
`-k` and `--threads 1` on the command line, which win over this file.
"""

import runpy
from pathlib import Path

_project_settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
globals().update({name: value for name, value in _project_settings.items()
                  if not name.startswith("_") and not callable(value)})
