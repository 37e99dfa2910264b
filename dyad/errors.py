"""Exceptions that dyad raises for bad input.

The CLI turns any :class:`DyadError` into one clear line per problem and exit code 2;
everything else is a bug and keeps its traceback.
"""


class DyadError(Exception):
    """Bad input from the user: a scenario, a parameter, a plugin, a results folder."""


class ConfigError(DyadError, ValueError):
    """A parameter or scenario field has an impossible value.

    ``problems`` holds one human-readable line per problem, each naming the field and
    what was expected.
    """

    def __init__(self, problems: str | list[str]):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PluginError(DyadError):
    """A parent-policy plugin cannot be loaded or registered."""


class ResultsError(DyadError):
    """A results folder is missing, incomplete or not a dyad results folder."""


class ResourceError(DyadError):
    """A run or sweep would need more memory, or more runs, than allowed (see dyad.resources)."""
