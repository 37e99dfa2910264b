import subprocess
import sys

import click
import pytest

from dyad import cli as cli_module
from dyad.cli import COMMANDS, main


def test_help_lists_every_command_without_importing_heavy_packages():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from dyad.cli import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.output)\n"
        "heavy = ('numpy', 'pandas', 'mesa', 'numba')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for name in COMMANDS:
        assert name in out.stdout
    assert "HEAVY []" in out.stdout


def test_console_script_exits_with_the_code_a_command_passes_to_ctx_exit(monkeypatch):
    @click.command("exit-three")
    @click.pass_context
    def exit_three(ctx):
        ctx.exit(3)

    monkeypatch.setattr(sys, "argv", ["dyad", "exit-three"])
    monkeypatch.setattr(cli_module.LazyGroup, "get_command", lambda self, ctx, name: exit_three)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 3


def test_console_script_turns_bad_input_into_exit_code_2(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[run]\nsteps = "many"\n')
    monkeypatch.setattr(sys, "argv", ["dyad", "simulate", str(bad)])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"Error: {bad}: run.steps: Input should be a valid integer, unable to parse "
        "string as an integer (got 'many')"
    ]
