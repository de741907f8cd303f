"""The manager's command line: Kubebuilder's flag names, environment fallbacks, clear refusals."""

from __future__ import annotations

import pytest

from opstack.__main__ import parse_args


def test_defaults_match_kubebuilder_scaffold() -> None:
    args = parse_args([])
    assert args.metrics_bind_address == ":8080"
    assert args.health_probe_bind_address == ":8081"
    assert args.leader_elect is False
    assert args.namespaces is None


def test_environment_supplies_flags_and_command_line_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSTACK_LEADER_ELECT", "true")
    monkeypatch.setenv("OPSTACK_NAMESPACE", "b,a")
    monkeypatch.setenv("OPSTACK_LOG_LEVEL", "debug")
    args = parse_args([])
    assert args.leader_elect is True and args.namespaces == ["a", "b"] and args.log_level == "debug"
    args = parse_args(["--no-leader-elect", "--namespace", "c", "--namespace", "d,c"])
    assert args.leader_elect is False and args.namespaces == ["c", "d"]


def test_bad_values_are_refused_with_the_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSTACK_LEADER_ELECT", "maybe")
    with pytest.raises(SystemExit, match="OPSTACK_LEADER_ELECT"):
        parse_args([])
    monkeypatch.delenv("OPSTACK_LEADER_ELECT")
    with pytest.raises(SystemExit):
        parse_args(["--max-concurrent-reconciles", "0"])
    assert "--max-concurrent-reconciles must be at least 1" in capsys.readouterr().err
