"""Gunicorn hooks: each worker reports that it has loaded the application.

The parent waits for every worker before loading the server, so no measurement includes a
worker that is still importing Django or filling its database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

READY_DIR_ENV = "PREFLIGHT_BENCH_READY_DIR"


def post_worker_init(worker: Any) -> None:
    """Touch a file named after the worker's PID in the directory the parent watches."""
    ready_dir = os.environ.get(READY_DIR_ENV)
    if ready_dir:
        (Path(ready_dir) / str(os.getpid())).touch()
