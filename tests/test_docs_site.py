"""The documentation site: mkdocs.yml builds in strict mode, with its API reference.

``mkdocs build --strict`` fails on a broken link or anchor between the docs/ pages, a page left
out of the navigation, a docstring griffe cannot parse, and a cross-reference (including the
Sphinx roles of the docstrings, rewritten by docs/scripts/sphinx_roles.py) to nothing.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import griffe
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def load_sphinx_roles():
    spec = importlib.util.spec_from_file_location(
        "sphinx_roles", ROOT / "docs" / "scripts" / "sphinx_roles.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nav_pages(nav) -> list[str]:
    """Every page file named in a (nested) mkdocs nav."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return [page for item in nav for page in nav_pages(item)]


def mkdocs_config() -> dict:
    # mkdocs.yml may use !!python/name tags; BaseLoader reads everything as plain text
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def test_every_api_page_documents_one_dyad_module():
    """One small page per module in docs/api/, so a moved module is a one-line fix."""
    api_pages = sorted((ROOT / "docs" / "api").glob("*.md"))
    assert api_pages
    in_nav = set(nav_pages(mkdocs_config()["nav"]))
    for page in api_pages:
        assert f"api/{page.name}" in in_nav, f"{page} is not in mkdocs.yml's nav"
        if page.name == "index.md":
            continue
        directives = [
            line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith(":::")
        ]
        assert directives == [f"::: dyad.{page.stem}"], f"{page}: {directives}"


def test_nested_lists_are_indented_four_spaces_so_the_site_nests_them_like_github():
    """Python-Markdown (the site) nests a list item only at 4 spaces; at 2 it flattens it."""
    shallow = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        in_code = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                in_code = not in_code
            elif not in_code and re.match(r"^ {1,3}([-*+]|\d+\.) ", line):
                shallow.append(f"{page.name}:{number}: {line.strip()[:40]}")
    assert not shallow, "indent nested list items by 4 spaces:\n" + "\n".join(shallow)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """A small package ``toy`` loaded by griffe with the roles extension, as the site loads dyad."""
    root = tmp_path_factory.mktemp("src")
    (root / "toy").mkdir()
    (root / "toy" / "__init__.py").write_text('"""Top."""\n')
    (root / "toy" / "errors.py").write_text(
        '"""Errors."""\n\nclass ConfigError(ValueError):\n    """Bad scenario."""\n'
    )
    (root / "toy" / "store.py").write_text(
        '"""Results.\n\nExample::\n\n    load_run("x")\n"""\n'
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from toy.errors import ConfigError\n\n"
        "def load_run(folder):\n"
        '    """Raise :class:`ConfigError`, not :exc:`KeyError`; see :func:`_helper`.\n\n'
        "    Uses :class:`ProcessPoolExecutor` and :class:`numpy.random.Generator`, and\n"
        "    :meth:`Run.save`, :func:`~toy.store.save`, :func:`no_such_function`,\n"
        '    :attr:`set_elsewhere`.\n    """\n\n'
        "def save():\n    pass\n\n"
        "def _helper():\n    pass\n\n"
        "class Run:\n"
        '    """A run; see :meth:`save`."""\n\n'
        "    def save(self):\n        pass\n"
    )
    extension = load_sphinx_roles().SphinxRoles()
    return griffe.load("toy", search_paths=[root], extensions=griffe.Extensions(extension))


def test_sphinx_roles_become_cross_references_resolved_in_scope(package):
    text = package["store.load_run"].docstring.value
    # imported into the module: linked to where it is defined
    assert "[`ConfigError`][toy.errors.ConfigError]" in text
    # a dotted name starting with a class of the package, and a full path shown by its last name
    assert "[`Run.save`][toy.store.Run.save]" in text
    assert "[`save`][toy.store.save]" in text
    # builtins, other packages' objects and private helpers stay plain code
    assert "`KeyError`" in text and "[`KeyError`]" not in text
    assert "`ProcessPoolExecutor`" in text and "[`ProcessPoolExecutor`]" not in text
    assert "`numpy.random.Generator`" in text and "[`numpy" not in text
    assert "`_helper`" in text and "[`_helper`]" not in text
    # an attribute static analysis cannot see stays plain; any other unknown name stays a
    # cross-reference, which mkdocs build --strict then reports as broken
    assert "`set_elsewhere`" in text and "[`set_elsewhere`]" not in text
    assert "[`no_such_function`][no_such_function]" in text
    assert ":class:" not in text and ":func:" not in text


def test_a_method_role_resolves_in_its_class_and_literal_markers_become_colons(package):
    assert package["store.Run"].docstring.value == "A run; see [`save`][toy.store.Run.save]."
    assert "Example:\n" in package["store"].docstring.value
    assert "::" not in package["store"].docstring.value


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path):
    """The whole site, API reference included, builds with no warning (about 15 s)."""
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    # the API reference was rendered from the docstrings, cross-references resolved
    policies = (site / "api" / "policies" / "index.html").read_text(encoding="utf-8")
    assert 'id="dyad.policies.ParentPolicy"' in policies
    assert ":class:`" not in policies and ":func:`" not in policies
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "mirror neurons" in home
