"""structlog configuration: JSON or console, level filtering, context vars, stdlib routing, no locals."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from opstack.runtime.logging import configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_json_carries_context_and_filters_by_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    log = structlog.get_logger("opstack.test")
    with structlog.contextvars.bound_contextvars(controller="c", namespace="ns", name="n", reconcile_id="r1"):
        log.info("reconciling", step=1)
        log.debug("hidden")
    logging.getLogger("opstack.runtime.informer").warning("from stdlib %s", "logging")
    out = lines(capsys.readouterr().err)
    assert [o["event"] for o in out] == ["reconciling", "from stdlib logging"]
    first = out[0]
    assert {k: first[k] for k in ("controller", "namespace", "name", "reconcile_id", "level", "step")} == {
        "controller": "c",
        "namespace": "ns",
        "name": "n",
        "reconcile_id": "r1",
        "level": "info",
        "step": 1,
    }
    assert "timestamp" in first and "reconcile_id" not in out[1]


def test_tracebacks_never_show_local_variables(capsys: pytest.CaptureFixture[str]) -> None:
    log = structlog.get_logger("opstack.test")
    for fmt in ("json", "console"):
        configure_logging("debug", fmt)
        try:
            private_key = "0xdeadbeefsecret"
            raise ValueError(f"bad input of length {len(private_key)}")
        except ValueError:
            log.exception("failed")
        err = capsys.readouterr().err
        assert "bad input of length" in err and "ValueError" in err
        assert "0xdeadbeefsecret" not in err


def test_reconfiguring_does_not_duplicate_output(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    configure_logging("warning", "json")
    structlog.get_logger("x").warning("once")
    structlog.get_logger("x").info("filtered")
    assert [o["event"] for o in lines(capsys.readouterr().err)] == ["once"]


def test_bad_level_names_the_flag() -> None:
    with pytest.raises(ValueError, match="--log-level"):
        configure_logging("verbose")
