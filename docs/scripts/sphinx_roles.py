"""Griffe extension: Sphinx roles in dyad's docstrings become cross-references on the site.

dyad's docstrings follow the numpy convention, which (like numpy's and scikit-learn's own)
names other objects with Sphinx roles: ``:class:`ConfigError```, ``:func:`~dyad.store.load_run```.
mkdocstrings does not read reST roles and would print them verbatim, so this extension rewrites
each one, before the docstrings are parsed, into a Markdown cross-reference to the object's full
path, found as Sphinx would find it:

1. a full path (``dyad.store.load_run``) is taken as written;
2. otherwise the first name is looked up in the docstring's own scope (the object, its class,
   its module, and the module's imports), so ``:class:`ConfigError``` in a module that imports
   it links to ``dyad.errors.ConfigError`` and ``:meth:`fit``` in a class to that class's method;
3. otherwise, if exactly one object of dyad has that (dotted) name, that one.

A leading ``~`` shows only the last name, as in Sphinx. A target that resolves outside dyad
(``ProcessPoolExecutor`` imported from ``concurrent.futures``, a builtin such as ``KeyError``)
stays plain code, since the site has no inventory of other projects to link to; so does a
private helper (``_work_rows``), which the reference leaves out. Any other target is
kept as a cross-reference, so a role that names nothing dyad documents fails
``mkdocs build --strict`` like a broken link. One exception: ``:attr:`` roles naming an attribute
that static analysis cannot see (assigned outside ``__init__``) stay plain code.

A reST literal-block marker (a line ending in ``::``) becomes a single colon, since the indented
block after it is already a code block in Markdown.

Loaded by mkdocs.yml (``extensions: [docs/scripts/sphinx_roles.py]``); not part of the package.
"""

from __future__ import annotations

import builtins
import re
from collections import defaultdict
from typing import Any

import griffe

#: ``:role:`target``` or ``:py:role:`target``` with the roles of Sphinx's Python domain.
ROLE = re.compile(r":(?:py:)?(class|func|meth|attr|data|exc|mod|obj|const):`(~?)([\w.]+)(\(\))?`")
#: A line ending in the reST literal-block marker ``::`` (not a bare ``::`` line).
LITERAL_MARKER = re.compile(r"(\S)::$", re.MULTILINE)


class SphinxRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Index the package's objects by name, then rewrite every docstring in it."""
        objects = _walk(pkg)
        by_suffix: dict[str, list[str]] = defaultdict(list)
        for obj in objects:
            parts = obj.path.split(".")
            for start in range(1, len(parts)):
                by_suffix[".".join(parts[start:])].append(obj.path)
        for obj in objects:
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj, pkg.name, by_suffix)


def rewrite(text: str, scope: griffe.Object, package: str, by_suffix: dict[str, list[str]]) -> str:
    """Return ``text`` with its Sphinx roles turned into Markdown cross-references.

    Parameters
    ----------
    text : str
        A raw docstring.
    scope : griffe.Object
        The object the docstring belongs to; names are looked up from here outwards.
    package : str
        The documented package's name (``"dyad"``); targets outside it stay plain code.
    by_suffix : dict of str to list of str
        Every dotted suffix of every object path in the package -> the full paths ending so.

    Returns
    -------
    str
        The docstring with each role replaced, following the rules of the module docstring.
    """

    def replace(match: re.Match[str]) -> str:
        role, tilde, target, call = match.groups()
        title = (target.rsplit(".", 1)[-1] if tilde else target) + (call or "")
        path = _resolve(target, scope, package, by_suffix)
        if path is None or (path == target and role == "attr" and "." not in target):
            return f"`{title}`"
        return f"[`{title}`][{path}]"

    return LITERAL_MARKER.sub(r"\1:", ROLE.sub(replace, text))


def _resolve(
    target: str, scope: griffe.Object, package: str, by_suffix: dict[str, list[str]]
) -> str | None:
    """Full path of ``target`` inside ``package``, None if it lies outside, else ``target``."""
    head, _, rest = target.partition(".")
    full: str | None = target if head == package else None
    if full is None:
        try:
            full = scope.resolve(head)
        except griffe.NameResolutionError:
            pass
        else:
            full = f"{full}.{rest}" if rest else full
    if full is None and (hasattr(builtins, head) or (rest and head not in by_suffix)):
        return None  # a builtin, or a dotted name of another package (matplotlib.figure.Figure)
    if full is None:
        matches = by_suffix.get(target, [])
        if len(matches) != 1:
            return target  # unknown or ambiguous: left for autorefs to report as broken
        full = matches[0]
    if full.split(".", 1)[0] != package or any(_is_private(name) for name in full.split(".")):
        return None  # another package's object, or a private helper the reference leaves out
    return full


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


def _walk(root: griffe.Object) -> list[griffe.Object]:
    """``root`` and all objects defined under it (aliases, i.e. imports, excluded)."""
    found, stack = [], [root]
    while stack:
        obj = stack.pop()
        found.append(obj)
        stack.extend(member for member in obj.members.values() if not member.is_alias)
    return found
