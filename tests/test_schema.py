"""The scenario format as JSON Schema and docs/scenarios.md, generated from the models."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dyad.cli import cli
from dyad.schema import _docstring_fields, json_schema, markdown, undocumented_fields

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
REFERENCE = REPO / "docs" / "scenarios.md"
SCHEMA_FILE = SCENARIOS / "scenario.schema.json"


def test_docs_scenarios_md_is_current():
    assert REFERENCE.read_text() == markdown(), (
        "docs/scenarios.md is out of date with the scenario models; regenerate it with "
        "`uv run dyad schema --markdown > docs/scenarios.md`"
    )


def test_committed_json_schema_is_current():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert SCHEMA_FILE.read_text() == result.stdout, (
        "scenarios/scenario.schema.json is out of date with the scenario models; regenerate "
        "it with `uv run dyad schema > scenarios/scenario.schema.json`"
    )


def test_every_field_has_a_meaning():
    assert undocumented_fields() == [], (
        "give these scenario fields a description= (pydantic), an Attributes entry "
        "(dataclass docstring) or an entry in dyad.schema.FIELD_NOTES"
    )


def reference_rows(header: str) -> dict[str, list[str]]:
    """Field -> [type, default, range, meaning] of the table under ``## `header` ``."""
    text = REFERENCE.read_text()
    section = text.split(f"## `{header}`\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `(\w+)` \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


@pytest.mark.parametrize(
    ("header", "fields"),
    [
        ("[run]", ["steps", "log_every", "test_trials", "motor_test_flip"]),
        ("[sharing]", ["mode", "block_length"]),
        ("[mirror]", ["n_neurons", "competition", "sparseness", "slope", "learning_rate"]),
        ("[mirror]", ["normalisation", "motor_gain", "trace_eta", "homeostasis"]),
        ("[motor]", ["units_per_expression", "coding", "active_fraction"]),
        ("[vision.visnet]", ["layer_side", "fan_in", "sparseness", "rule", "centre_inputs"]),
        ("[vision.visnet.v1]", ["image_size", "wavelengths", "bandwidth"]),
        ("[vision.faces.transforms]", ["translation", "noise", "au_jitter"]),
    ],
)
def test_reference_lists_type_default_range_and_meaning(header, fields):
    rows = reference_rows(header)
    for field in fields:
        kind, default, _range, meaning = rows[field]
        assert kind and default and len(meaning) > 10, (header, field, rows[field])


def test_reference_shows_the_values_a_scenario_gets_by_default():
    assert reference_rows("[run]")["motor_test_flip"][1:3] == ["`0.05`", "≥ 0, < 0.5"]
    assert reference_rows("[mirror]")["n_neurons"][1] == '`"auto"`'  # S ⌊256/S⌋
    # a scenario's faces shift by ±4 px (TransformConfig.learnable), not the class default of
    # TransformConfig (±8 px)
    assert reference_rows("[vision.faces.transforms]")["translation"][1] == "`4.0`"
    assert "q" in REFERENCE.read_text().split("**`noisy`**", 1)[1].split("**`lagged`**")[0]


def test_shipped_scenarios_name_the_schema_and_pass_it():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema comes with the extra viz")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    for path in sorted(SCENARIOS.glob("*.toml")):
        assert path.read_text().startswith("#:schema ./scenario.schema.json\n"), path
        errors = [e.message for e in validator.iter_errors(tomllib.loads(path.read_text()))]
        assert errors == [], (path, errors)
    bad = {"run": {"steps": -1, "stepz": 3}, "mirror": {"competition": "winner"}}
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert len(messages) == 3
    assert any("'stepz' was unexpected" in m for m in messages)


def test_schema_command_prints_json_schema_and_markdown():
    runner = CliRunner()
    schema = json.loads(runner.invoke(cli, ["schema"]).stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert "name" not in schema.get("required", [])  # a file's name defaults to its file name
    run = schema["$defs"]["RunSection"]["properties"]
    assert run["log_every"]["description"] == "log mirror-layer rates every N timesteps"
    assert schema == json_schema()
    result = runner.invoke(cli, ["schema", "--markdown"])
    assert result.exit_code == 0 and result.stdout.startswith("# Scenario reference\n")


def test_docstring_fields_reads_both_docstring_styles():
    class Google:
        """Summary.

        Attributes:
            size: side of the image in
                pixels (128).
            rule: ``"trace"`` or ``"hebb"``.

        More text.
        """  # noqa: D406, D407 -- Google style on purpose: the parser's input

    class Ticks:
        """Summary.

        ``n_neurons``: N, layer size
        (256 = 16x16).
        ``slope``: steepness.
        """

    class Numpy:
        """Summary.

        Attributes
        ----------
        size : int
            side of the image in
            pixels (128).
        rule
            ``"trace"`` or ``"hebb"``.

        Notes
        -----
        More text.
        """

    assert _docstring_fields(Numpy) == {
        "size": "side of the image in pixels (128).",
        "rule": '``"trace"`` or ``"hebb"``.',
    }
    assert _docstring_fields(Google) == {
        "size": "side of the image in pixels (128).",
        "rule": '``"trace"`` or ``"hebb"``.',
    }
    assert _docstring_fields(Ticks) == {
        "n_neurons": "N, layer size (256 = 16x16).",
        "slope": "steepness.",
    }
