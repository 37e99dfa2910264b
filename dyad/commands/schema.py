"""``dyad schema``: the scenario format as JSON Schema (for editors) or as a Markdown reference."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the field reference as Markdown (docs/scenarios.md) instead of JSON Schema.",
)
def schema(markdown: bool) -> None:
    """Print the scenario format as JSON Schema, or every field's reference as Markdown.

    Editors that read JSON Schema for TOML (taplo, e.g. VS Code's Even Better TOML) complete
    and check scenario fields with it: save it next to your scenarios and start each file with
    "#:schema ./scenario.schema.json", as the shipped scenarios do.

    \b
      dyad schema > scenarios/scenario.schema.json
      dyad schema --markdown > docs/scenarios.md
    """  # noqa: D301 -- click's \b (no-rewrap) marker must stay a real backspace
    from dyad.commands.options import say

    say("dyad schema: building it from the scenario models ...")
    from dyad.schema import markdown as reference
    from dyad.schema import schema_json_text

    click.echo(reference() if markdown else schema_json_text(), nl=False)
