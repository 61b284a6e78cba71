"""Report tables and statistics: CSV and Markdown text, number formats, mean and quantiles."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from agentbed.agents.reporting.stats import delay_summary, mean, quantile
from agentbed.agents.reporting.tables import (
    csv_text,
    markdown_table,
    number_text,
    percent_text,
    write_tables,
)


def test_csv_text_leaves_missing_columns_empty_and_ignores_extra_keys() -> None:
    text = csv_text(("a", "b"), [{"a": 1, "b": "x,y"}, {"b": 2, "z": 9}])
    assert text == 'a,b\n1,"x,y"\n,2\n'


def test_write_tables_adds_a_first_column_naming_each_run(tmp_path: Path) -> None:
    runs = [
        SimpleNamespace(label="fifo", rows=[{"n": 1}, {"n": 2}]),
        SimpleNamespace(label="priority", rows=[{"n": 3}]),
    ]
    write_tables(tmp_path, [("t.csv", ("n",), "rows")], runs, "policy")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert [(r["policy"], r["n"]) for r in rows] == [
        ("fifo", "1"),
        ("fifo", "2"),
        ("priority", "3"),
    ]


def test_write_tables_of_one_run_has_only_its_columns(tmp_path: Path) -> None:
    write_tables(tmp_path, [("t.csv", ("n",), "rows")], [SimpleNamespace(rows=[{"n": 1}])])
    assert (tmp_path / "t.csv").read_text() == "n\n1\n"


def test_markdown_table_aligns_each_column_by_its_letter() -> None:
    assert markdown_table(["name", "value"], [["a", 1], ["b", 2.5]], "lr") == [
        "| name | value |",
        "| --- | ---: |",
        "| a | 1 |",
        "| b | 2.5 |",
    ]


@pytest.mark.parametrize(
    ("value", "text"), [(1234567.891, "1,234,567.89"), (-0.005, "-0.01"), (0, "0.00")]
)
def test_number_text_has_separators_and_two_decimals(value: float, text: str) -> None:
    assert number_text(value) == text


def test_percent_text_is_a_whole_percentage() -> None:
    assert [percent_text(v) for v in (0.0, 0.125, 1.0)] == ["0%", "12%", "100%"]


def test_quantile_takes_the_element_at_rank_q_times_n() -> None:
    values = [50, 10, 40, 20, 30]
    assert quantile(values, 0.5) == 30.0
    assert quantile(values, 0.9) == 50.0
    assert quantile(values, 1.0) == 50.0
    assert quantile([], 0.5) == 0.0


def test_mean_of_nothing_is_zero() -> None:
    assert mean([]) == 0.0
    assert mean([1, 2]) == 1.5


def test_delay_summary_of_waits() -> None:
    assert delay_summary([3000, 1000, 2000]) == {
        "mean": 2000.0,
        "median": 2000.0,
        "p90": 3000.0,
        "max": 3000,
    }
    assert delay_summary([]) == {"mean": 0.0, "median": 0.0, "p90": 0.0, "max": 0}
