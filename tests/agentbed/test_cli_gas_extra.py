"""``testbed gas`` without the ``agentbed[pytest]`` extra: one error line, usage exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentbed.cli import EXIT_USAGE, main

SUITE = Path(__file__).resolve().parents[1] / "fixtures" / "gas" / "gas_suite.py"


@pytest.fixture
def without_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import pytest`` fail as it would without the extra, and forbid subprocesses."""
    monkeypatch.setitem(sys.modules, "pytest", None)

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("testbed gas started pytest although it is not importable")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)


@pytest.mark.usefixtures("without_pytest")
def test_gas_without_pytest_says_how_to_install_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gas", str(SUITE)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err == (
        'testbed: error: testbed gas needs pytest: pip install "agentbed[pytest]"\n'
    )
    assert captured.out == ""


@pytest.mark.usefixtures("without_pytest")
def test_gas_without_pytest_fails_before_checking_paths(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["gas", "no/such/dir"]) == EXIT_USAGE
    assert "needs pytest" in capsys.readouterr().err


def test_gas_with_pytest_goes_on_to_check_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gas", "no/such/dir"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "needs pytest" not in err
    assert "no such test path: no/such/dir" in err


def test_gas_passes_the_words_after_the_separator_to_pytest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # They were read as test paths ("no such test path: -k").
    started: list[list[str]] = []

    class Finished:
        def __init__(self, command: list[str], **kwargs: object) -> None:
            started.append(command)
            self.stdout: list[str] = []
            self.returncode = 0

        def __enter__(self) -> Finished:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(subprocess, "Popen", Finished)
    assert main(["gas", str(SUITE), "--", "-k", "transfer", "-x"]) == 0
    (command,) = started
    assert command[-4:] == [str(SUITE), "-k", "transfer", "-x"]
    assert "--gas-report" in command


def test_words_after_the_separator_are_refused_by_commands_without_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compile", "--", "-x"]) == EXIT_USAGE
    assert capsys.readouterr().err == "testbed compile: takes no arguments after --, got -x\n"
