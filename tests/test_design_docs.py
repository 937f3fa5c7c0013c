"""The design docs (docs/design/) cannot drift from the code they describe.

- every citation of a design doc names a file and a heading that exist;
- no text in the repository cites the reference material outside it, every repository path a doc or
  docstring names exists, and every relative Markdown link resolves;
- interfaces.md's profile tables list every pydantic field of the profile, with the type, default and
  allowed values the model declares; its plan JSON tables list every key ``napkin plan --json`` prints;
  its command-line sections name every subcommand and option the parser accepts.

Run ``python tests/test_design_docs.py`` to print the profile tables as the schema declares them (the
meaning column kept from interfaces.md), for pasting after a schema change.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys
import tomllib
from enum import Enum
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.json_view import plan_to_dict
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import Tflops

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design"
SKIPPED_PARTS = {".venv", ".git", "__snapshots__", "napkinmath.egg-info", "build"}
QUOTED = ROOT / "tests" / "data"  # material copied from elsewhere: its paths are other repositories' paths
TEXT_SUFFIXES = {".py", ".md", ".toml", ".tcss"}
# A design doc and the headings it names (a comma, then one or more quoted headings joined by "and").
CITATION = re.compile(r"\b(physics|interfaces|architecture|style)\.md`?,\s*((?:\"[^\"]+\"(?:\s*(?:,|and)\s*)?)+)")
REPOSITORY_PATH = re.compile(r"(?<![\w/.\-])((?:core|tui|cli|themes|profiles|docs|tests|bench)/[\w./\-]*\.(?:py|md|toml|tcss))")
# (table heading in interfaces.md, the pydantic model its rows describe)
PROFILE_TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("top level", Profile), ("[hardware]", Profile.model_fields["hardware"].annotation),
    ("[hardware.tflops]", Tflops), ("[model]", Profile.model_fields["model"].annotation),
    ("[parallelism]", Profile.model_fields["parallelism"].annotation),
    ("[workload]", Profile.model_fields["workload"].annotation), ("[engine]", Profile.model_fields["engine"].annotation),
    ("[cost]", Profile.model_fields["cost"].annotation),
)
BOUND_ATTRIBUTES = {"Ge": "ge", "Gt": "gt", "Le": "le", "Lt": "lt", "MinLen": "min_length", "MaxLen": "max_length"}
SECTIONS = {"hardware", "model", "parallelism", "workload", "engine", "cost"}


def _text_files(quoted: bool = False) -> list[Path]:
    """The repository's text files; with ``quoted``, also the material copied into tests/data."""
    return sorted(path for path in ROOT.rglob("*") if path.suffix in TEXT_SUFFIXES and path.is_file()
                  and not SKIPPED_PARTS & set(path.relative_to(ROOT).parts)
                  and (quoted or not path.is_relative_to(QUOTED)))


def _sections(markdown: str, level: int) -> dict[str, str]:
    """Heading text -> the text under it, for headings of exactly ``level`` hashes."""
    marker = "#" * level + " "
    found: dict[str, str] = {}
    heading = None
    for line in markdown.splitlines():
        if line.startswith(marker):
            heading = line[len(marker):].strip()
            found[heading] = ""
        elif re.match(rf"#{{1,{level}}} ", line):
            heading = None
        elif heading is not None:
            found[heading] += line + "\n"
    return found


def _headings(markdown: str) -> set[str]:
    return {match.group(1).strip() for match in re.finditer(r"^#{1,6} (.+)$", markdown, re.MULTILINE)}


def _table_rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in ``text``, cells stripped (header and rule rows left out)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: ") or not cells[0].startswith("`"):
            continue
        rows.append(cells)
    return rows


def test_every_design_citation_names_a_file_and_heading_that_exist():
    headings = {path.name: _headings(path.read_text(encoding="utf-8")) for path in DESIGN.glob("*.md")}
    missing = []
    for path in _text_files():
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))  # docstrings wrap headings over lines
        for match in CITATION.finditer(text):
            doc = f"{match.group(1)}.md"
            for heading in re.findall(r'"([^"]+)"', match.group(2)):
                if heading not in headings.get(doc, set()):
                    missing.append(f"{path.relative_to(ROOT)}: {doc}, {heading!r}")
    assert not missing, "citations of a design doc heading that does not exist:\n" + "\n".join(missing)
    for name in ("physics.md", "interfaces.md", "architecture.md", "style.md"):
        assert headings.get(name), f"docs/design/{name} is missing or has no headings"


def test_no_citation_points_outside_the_repository():
    outside = "../" + "shared"  # split so that this file does not match itself
    offenders = [str(path.relative_to(ROOT)) for path in _text_files(quoted=True)
                 if outside in path.read_text(encoding="utf-8") or "shared/" + "design" in path.read_text(encoding="utf-8")]
    assert not offenders, f"these files cite material outside the repository: {offenders}"


def test_every_repository_path_named_in_docs_and_docstrings_exists():
    missing = sorted({f"{path.relative_to(ROOT)}: {match.group(1)}" for path in _text_files()
                      for match in REPOSITORY_PATH.finditer(path.read_text(encoding="utf-8"))
                      if not (ROOT / match.group(1).rstrip(".")).exists()})
    assert not missing, "paths that do not exist (moved or renamed?):\n" + "\n".join(missing)


def test_every_relative_markdown_link_resolves():
    broken = []
    for path in _text_files():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            local = target.split("#", 1)[0]
            if local and not re.match(r"[a-z]+:", local) and not (path.parent / local).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, "Markdown links to files that do not exist:\n" + "\n".join(broken)


# ----------------------------------------------------------------------------------- the profile schema
def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def type_cell(annotation: Any) -> str:
    """The field's type as interfaces.md writes it."""
    inner = _without_none(annotation)
    if get_origin(inner) is Literal:
        return "text"
    if isinstance(inner, type) and issubclass(inner, Enum):
        return "precision"
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return "table"
    if get_origin(inner) is dict:
        return "table"
    if get_origin(inner) in (list, tuple):
        return "list"
    return {int: "integer", float: "number", str: "text", bool: "boolean"}[inner]


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def default_cell(value: Any, required: bool) -> str:
    """The field's default as interfaces.md writes it: "required", "unset" (None) or the value."""
    if required:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return f'"{value.value}"'
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict | list | tuple):
        return "empty" if not value else ", ".join(str(item) for item in value)
    if isinstance(value, BaseModel):
        return "the defaults below"
    return _number(value)


def allowed_cell(info: FieldInfo) -> str:
    """What the field accepts: its literal choices, bounds as an interval, or a text length."""
    inner = _without_none(info.annotation)
    if get_origin(inner) is Literal:
        return ", ".join(f'"{choice}"' for choice in get_args(inner))
    if isinstance(inner, type) and issubclass(inner, Enum):
        return ", ".join(precision.value for precision in inner)
    if inner is bool:
        return "true, false"
    bounds = {type(item).__name__: getattr(item, BOUND_ATTRIBUTES[type(item).__name__]) for item in info.metadata
              if type(item).__name__ in BOUND_ATTRIBUTES}
    if inner is str:
        shortest = bounds.get("MinLen", 0)
        return f"{shortest} to {bounds['MaxLen']:,} characters" if shortest else f"up to {bounds['MaxLen']:,} characters"
    if get_origin(inner) in (list, tuple):
        longest = bounds.get("MaxLen")
        return f"up to {longest:,} names" if longest is not None else "names"
    if inner in (int, float):
        low = ("[" + _number(bounds["Ge"])) if "Ge" in bounds else ("(" + _number(bounds["Gt"])) if "Gt" in bounds else None
        high = (_number(bounds["Le"]) + "]") if "Le" in bounds else (_number(bounds["Lt"]) + ")") if "Lt" in bounds else None
        if low and high:
            return f"{low}, {high}"
        return f"≥ {low[1:]}" if low and low[0] == "[" else f"> {low[1:]}" if low else "any"
    return "see below"


def schema_rows(model: type[BaseModel]) -> dict[str, tuple[str, str, str]]:
    """key -> (type, default, allowed) for every field of ``model``, defaults as a profile gets them."""
    sections = (f.get_default(call_default_factory=True, validated_data={}) for f in Profile.model_fields.values())
    defaults = next((section for section in sections if type(section) is model), None)
    rows = {}
    for name, info in model.model_fields.items():
        if model is Profile and name in SECTIONS:
            continue
        key = info.alias or name
        value = getattr(defaults, name) if defaults is not None else info.get_default(call_default_factory=True)
        rows[key] = (type_cell(info.annotation), default_cell(value, info.is_required()), allowed_cell(info))
    return rows


def _profile_tables() -> dict[str, dict[str, list[str]]]:
    path = DESIGN / "interfaces.md"
    interfaces = path.read_text(encoding="utf-8") if path.exists() else ""
    tables = _sections(_sections(interfaces, 2).get("Profile file", ""), 3)
    return {heading: {row[0].strip("`"): row for row in _table_rows(tables.get(heading, ""))}
            for heading, _ in PROFILE_TABLES}


def _expected_row(key: str, cells: tuple[str, str, str], documented: list[str] | None) -> str:
    unit = documented[2] if documented and len(documented) > 2 else ""
    meaning = documented[5] if documented and len(documented) > 5 else "(what it means)"
    return f"| `{key}` | {cells[0]} | {unit} | {cells[1]} | {cells[2]} | {meaning} |"


@pytest.mark.parametrize(("heading", "model"), PROFILE_TABLES, ids=[heading for heading, _ in PROFILE_TABLES])
def test_profile_tables_list_every_field_as_the_schema_declares_it(heading, model):
    documented = _profile_tables()[heading]
    expected = schema_rows(model)
    problems = [f"{key}: listed in interfaces.md but not a field" for key in documented if key not in expected]
    for key, cells in expected.items():
        row = documented.get(key)
        if row is None or len(row) != 6 or (row[1], row[3], row[4]) != cells:
            problems.append(_expected_row(key, cells, row))
    assert not problems, f"interfaces.md, '### {heading}' differs from the schema; rows as they should read:\n" + \
        "\n".join(problems)


# ----------------------------------------------------------------------------------------- the plan JSON
def _leaves(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        keys |= _leaves(value, path) if isinstance(value, dict) else {path}
    return keys


def test_plan_json_tables_list_every_key_the_cli_prints():
    interfaces = (DESIGN / "interfaces.md").read_text(encoding="utf-8")
    documented = {row[0].strip("`") for row in _table_rows(_sections(interfaces, 2)["Plan JSON"])}
    vllm = load_profile(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))
    generic = load_profile(shipped_profile("b200-32b-chat-200k.toml"))
    printed = _leaves(plan_to_dict(plan(vllm), vllm))
    generic_data = plan_to_dict(plan(generic), generic)
    assert generic_data["engine"] is None  # the generic engine prints no start-up report
    assert _leaves(generic_data) - {"engine"} <= printed
    assert sorted(printed - documented) == [], "keys the plan JSON has that interfaces.md does not list"
    assert sorted(documented - printed) == [], "keys interfaces.md lists that the plan JSON does not have"


# -------------------------------------------------------------------------------------- the command line
def _run_entry_point(argv: list[str]) -> str:
    """What the ``napkin`` console script (pyproject.toml, [project.scripts]) prints for ``argv``."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["napkin"].partition(":")
    main = getattr(importlib.import_module(module), function)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(argv)
    return out.getvalue()


def test_command_line_sections_name_every_subcommand_and_option():
    usage = _run_entry_point(["--help"])
    subcommands = re.search(r"\{([\w,-]+)\}", usage)
    assert subcommands, f"no subcommand list in `napkin --help`:\n{usage}"
    interfaces = (DESIGN / "interfaces.md").read_text(encoding="utf-8")
    sections = _sections(_sections(interfaces, 2)["Command line"], 3)
    problems = []
    for name in subcommands.group(1).split(","):
        section = next((text for heading, text in sections.items() if f"napkin {name}`" in heading), None)
        if section is None:
            problems.append(f"no '### `napkin {name}`' section")
            continue
        options = set(re.findall(r"(?<![\w-])--[a-z][\w-]*", _run_entry_point([name, "--help"]))) - {"--help"}
        problems += [f"napkin {name}: {option} is not described" for option in sorted(options) if option not in section]
    assert not problems, "interfaces.md, 'Command line':\n" + "\n".join(problems)


if __name__ == "__main__":
    current = _profile_tables()
    for heading, model in PROFILE_TABLES:
        print(f"### {heading}\n\n| key | type | unit | default | allowed | meaning |\n| --- | --- | --- | --- | --- | --- |")
        for key, cells in schema_rows(model).items():
            print(_expected_row(key, cells, current[heading].get(key)))
        print()
    sys.exit(0)
