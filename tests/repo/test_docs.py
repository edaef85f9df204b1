"""The repository documents itself: code cites docs/model.md by section, and nothing points outside the repository.

Code that cites the model writes "docs/model.md section K" (or "sections K, L and M", "sections K-L"); each K
must be a numbered heading of docs/model.md ("## K. Title") or a numbered paragraph label ("**K.J Title**").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL_DOC = ROOT / "docs" / "model.md"
CODE_DIRS = ("lrm_gym", "agents", "tests", "benchmarks", "scripts")
DOC_FILES = ("README.md", "docs/model.md")  # the hand-written documentation; docs/results is generated
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".csv", ".json", ".sh", ""}

# Assembled so that this file's own examples match neither its forbidden patterns nor its citation pattern.
_DOC_WORD = "DES" + "IGN"
_SHARED = ".." + "/shared"
_MODEL = "docs/" + "model.md"
OUTSIDE_REFERENCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("the project's first design document (cite docs/model.md instead)", re.compile(rf"\b{_DOC_WORD}\b")),
    ("a design document file outside the repository", re.compile(rf"{_DOC_WORD}\.md", re.IGNORECASE)),
    ("a path into a sibling 'shared' folder", re.compile(r"\.\./+shared\b")),
    ("an absolute path on the development machine", re.compile("/" + "work/")),
)

_NUMBER = r"\d+(?:\.\d+)?"
CITATION = re.compile(rf"docs/model\.md,?\s+sections?\s+({_NUMBER}(?:\s*(?:,|and|-|to)\s*{_NUMBER})*)")
SECTION_HEADING = re.compile(rf"^##+\s+({_NUMBER})\.?\s+\S", re.MULTILINE)
PARAGRAPH_LABEL = re.compile(rf"^\*\*({_NUMBER})\s", re.MULTILINE)


def tracked_files(paths: tuple[str, ...]) -> list[Path]:
    """Text files under ``paths`` that git tracks (every file there when git or its metadata is unavailable)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--", *paths], capture_output=True, check=True, text=True
        ).stdout.split("\0")
        files = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for path in paths:
            target = ROOT / path
            files.extend([target] if target.is_file() else (p for p in target.rglob("*") if p.is_file()))
        files = [f for f in files if "__pycache__" not in f.parts]
    return sorted(f for f in files if f.is_file() and f.suffix in TEXT_SUFFIXES)


def outside_references(text: str) -> list[str]:
    """What in ``text`` refers to a document or path outside the repository, one line per hit."""
    hits = []
    for what, pattern in OUTSIDE_REFERENCES:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            hits.append(f"line {line}: {match.group(0)!r} ({what})")
    return hits


def cited_sections(text: str) -> list[str]:
    """Section numbers cited as "docs/model.md section(s) ..." in ``text`` (ranges expanded)."""
    cited: list[str] = []
    for match in CITATION.finditer(text):
        spec = match.group(1)
        for part in re.split(r"\s*(?:,|and)\s*", spec):
            bounds = re.split(r"\s*(?:-|to)\s*", part)
            if len(bounds) == 2 and all(b.isdigit() for b in bounds):
                cited.extend(str(k) for k in range(int(bounds[0]), int(bounds[1]) + 1))
            else:
                cited.extend(bounds)
    return cited


def model_sections(text: str) -> set[str]:
    """Section numbers defined in docs/model.md: numbered headings and numbered paragraph labels."""
    return set(SECTION_HEADING.findall(text)) | set(PARAGRAPH_LABEL.findall(text))


def test_the_model_reference_exists_with_consecutive_numbered_sections() -> None:
    headings = [int(k) for k in re.findall(r"^## (\d+)\. \S", MODEL_DOC.read_text(encoding="utf-8"), re.MULTILINE)]
    assert headings, "docs/model.md has no numbered '## K. Title' sections"
    assert headings == list(range(1, len(headings) + 1)), f"docs/model.md sections are not numbered 1..N: {headings}"


def test_nothing_refers_outside_the_repository() -> None:
    files = tracked_files(CODE_DIRS + DOC_FILES)
    assert any(f.name == "dynamics.py" for f in files), "the file listing found no source files"
    problems = {}
    for path in files:
        hits = outside_references(path.read_text(encoding="utf-8", errors="replace"))
        if hits:
            problems[str(path.relative_to(ROOT))] = hits
    assert not problems, f"references outside the repository: {problems}"


def test_every_model_citation_names_an_existing_section() -> None:
    sections = model_sections(MODEL_DOC.read_text(encoding="utf-8"))
    cited_anywhere = False
    problems = {}
    for path in tracked_files(CODE_DIRS):
        cited = cited_sections(path.read_text(encoding="utf-8", errors="replace"))
        cited_anywhere = cited_anywhere or bool(cited)
        missing = sorted(set(cited) - sections)
        if missing:
            problems[str(path.relative_to(ROOT))] = missing
    assert cited_anywhere, "no 'docs/model.md section K' citation found: is the citation pattern still the one used?"
    assert not problems, f"citations of sections that docs/model.md does not have: {problems}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"see {_MODEL} section 4.", ["4"]),
        (f"({_MODEL} sections 5, 10 and 11)", ["5", "10", "11"]),
        (f"{_MODEL}\n    sections 2-4", ["2", "3", "4"]),
        (f"{_MODEL} section 16.7", ["16.7"]),
        (f"model.md section 3 and {_MODEL}, section 9", ["9"]),
    ],
)
def test_citation_parser(text: str, expected: list[str]) -> None:
    assert cited_sections(text) == expected


def test_checks_flag_what_they_should() -> None:
    assert outside_references(f"see {_DOC_WORD} section 5") and outside_references(f"({_DOC_WORD} 4)")
    assert outside_references(f"open {_SHARED}/notes.md") and outside_references(f"cf. {_DOC_WORD.lower()}.md")
    assert outside_references("see " + "/" + "work/shared/notes.md")
    assert not outside_references(f"the design of the LP; DESIGNATED_ROW; {_MODEL} section 3")
    sections = model_sections("## 1. Units\n\n**1.2 Joules.** text\n## 2. Supply\n")
    assert sections == {"1", "1.2", "2"}
    assert set(cited_sections(f"{_MODEL} section 3")) - sections == {"3"}
