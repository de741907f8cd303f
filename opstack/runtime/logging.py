"""structlog configuration: JSON lines in a cluster, a readable console in development, level by flag.

Invariants:
- One call, `configure_logging(level=..., fmt=...)`, configures structlog AND the standard library's
  logging (urllib3, kubernetes, ...) to render through the same processors, to stderr, so every line of
  the process has one format. Calling it again reconfigures (idempotent; no duplicate handlers).
- `fmt="auto"` picks JSON when running in a cluster (KUBERNETES_SERVICE_HOST set) or when stderr is not a
  terminal, and the console renderer otherwise.
- Context bound with `structlog.contextvars` (the controller binds controller, namespace, name and
  reconcile_id around each reconcile) appears on every line logged on that thread during the reconcile.
- Exceptions are rendered with their traceback (an `exception` field in JSON), never with the values of
  local variables (they could hold secrets).
- Never log secrets: callers pass names of Secrets, never their data.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Literal

import structlog

LogFormat = Literal["auto", "json", "console"]
LEVELS = ("debug", "info", "warning", "error", "critical")


def _use_json(fmt: LogFormat) -> bool:
    if fmt == "json":
        return True
    if fmt == "console":
        return False
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) or not sys.stderr.isatty()


def configure_logging(level: str = "info", fmt: LogFormat = "auto") -> None:
    """Configure structlog and stdlib logging; `level` is one of debug/info/warning/error/critical."""
    name = level.lower()
    if name not in LEVELS:
        raise ValueError(f"--log-level must be one of {', '.join(LEVELS)}; got {level!r}")
    numeric = logging.getLevelNamesMapping()[name.upper()]
    as_json = _use_json(fmt)

    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor
    if as_json:
        # Tracebacks without local variables: locals could hold secrets.
        shared.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("opstack")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "opstack":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Chatty libraries stay at warning unless we debug.
    for noisy in ("urllib3", "kubernetes"):
        logging.getLogger(noisy).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
