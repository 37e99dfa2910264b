"""CITATION.cff: valid Citation File Format 1.2.0 naming dyad and the study it reproduces."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: CFF 1.2.0: keys the file must have, and keys each reference must have
REQUIRED = {"cff-version", "message", "title", "authors"}
REFERENCE_REQUIRED = {"type", "title", "authors"}
#: the reference types of the CFF 1.2.0 schema that fit a study or its software
REFERENCE_TYPES = {"article", "conference-paper", "generic", "report", "software", "unpublished"}
#: top-level keys defined by the CFF 1.2.0 schema (a misspelt key is not a citation field)
KNOWN_KEYS = REQUIRED | {
    "abstract", "commit", "contact", "date-released", "doi", "identifiers", "keywords",
    "license", "license-url", "preferred-citation", "references", "repository",
    "repository-artifact", "repository-code", "type", "url", "version",
}  # fmt: skip


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def named(author: dict) -> bool:
    """A CFF person has family-names (or given-names); an entity has a name."""
    return bool(author.get("family-names") or author.get("given-names") or author.get("name"))


def test_citation_file_has_the_keys_cff_requires():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    assert REQUIRED <= set(cff), REQUIRED - set(cff)
    assert set(cff) <= KNOWN_KEYS, set(cff) - KNOWN_KEYS
    assert cff["type"] == "software"
    assert cff["authors"] and all(named(author) for author in cff["authors"])


def test_citation_names_dyad_at_the_packaged_version_and_licence():
    cff = citation()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["title"].startswith("dyad")
    assert str(cff["version"]) == project["version"]
    assert cff["license"] == project["license"]


def test_citation_references_the_study_dyad_reproduces_as_the_readme_names_it():
    cff = citation()
    references = [cff["preferred-citation"]] if "preferred-citation" in cff else []
    references += cff.get("references", [])
    for reference in references:
        assert REFERENCE_REQUIRED <= set(reference), REFERENCE_REQUIRED - set(reference)
        assert reference["type"] in REFERENCE_TYPES
        assert reference["authors"] and all(named(author) for author in reference["authors"])
    # the README names the study: *"<title>"* (<authors>)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r'\*"([^"]+)"\*\s*\(([^)]+)\)', readme)
    assert match, 'README no longer names the study as *"title"* (authors)'
    title = " ".join(match.group(1).split())
    study = [ref for ref in references if " ".join(ref["title"].split()) == title]
    assert study, f"no reference titled {title!r}"
    readme_authors = re.findall(r"[A-Z][\w'-]+", match.group(2))
    assert [author["family-names"] for author in study[0]["authors"]] == readme_authors
