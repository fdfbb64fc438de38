"""Lint the SQL written in the dbt macros with the project's sqlfluff rules.

sqlfluff lints the models through dbt, but a file of macros renders to nothing. Here the SQL a
macro holds is found and linted without a database:
- the SQL of a macro, test or `{% set %}`/`{% call %}` block body, rendered with every Jinja
  name a placeholder (`if` takes its first branch, a loop runs once);
- the SQL of a Jinja string (a statement built for `run_query`), every expression
  concatenated into it (`"… where x = " ~ sql_literal(v) ~ " …"`) replaced by a placeholder.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.lexer import Token

PLACEHOLDER = "jinja_value"

#: What a piece of text starts with when it is a SQL statement.
_STATEMENT = re.compile(
    r"\s*(select|with|insert|update|delete|create|alter|drop|grant|revoke|lock|analyze|comment|"
    r"truncate|import|begin|commit|rollback|set|reset|copy|refresh|merge)\b", re.IGNORECASE)

#: Statements the postgres dialect of sqlfluff does not parse: their PRS findings are not
#: errors of ours (every other rule still applies).
DIALECT_GAPS = (
    re.compile(r"alter server \S+ version\b"),
    re.compile(r"alter user mapping\b"),
    re.compile(r"set local \w+\.\w+ ="),
    re.compile(r".*\bupdate public\.\S+ as cur\s+set \(", re.DOTALL),  # set (a, b) = row(...)
)

#: Statements of one word; any other lone word (`'set' if … else 'add'`) is a piece of one.
_ONE_WORD_STATEMENTS = ("begin", "commit", "rollback")

#: Rules that judge the text's container, not its SQL: a fragment is not a file (LT12, LT13),
#: its line length is the Jinja line's (LT05), and a placeholder hides what a name refers to
#: and where an alias is used (RF01-03, AL03-05, ST03).
FRAGMENT_EXCLUDED_RULES = ("LT05", "LT12", "LT13", "RF01", "RF02", "RF03", "AL03", "AL04", "AL05", "ST03")

#: A statement written on one line (`run_query("analyze " ~ …)`) is not laid out on several.
ONE_LINE_EXCLUDED_RULES = ("LT02", "LT08", "LT09", "LT11", "LT14")

#: Blocks whose body is SQL text rendered separately from the macro around them.
_BODY_BLOCKS = {"macro": "endmacro", "test": "endtest", "set": "endset", "call": "endcall"}


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL found in a macro file."""

    path: Path
    line: int  # the source line where the fragment starts
    where: str  # which macro and which kind of text
    sql: str
    #: for a string: the source line of each character of each line of `sql`; for a rendered
    #: body, none (its lines are counted from `line`)
    positions: tuple[tuple[int, ...], ...] = ()

    def source_line(self, fragment_line: int, fragment_column: int) -> int:
        if not self.positions:
            return self.line + fragment_line - 1
        lines = self.positions[min(max(fragment_line, 1), len(self.positions)) - 1]
        return lines[min(max(fragment_column, 1), len(lines)) - 1] if lines else self.line


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    where: str
    code: str
    description: str
    sql_line: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.description} [{self.where}]\n    | {self.sql_line}"


class _Placeholder(jinja2.ChainableUndefined):
    """Any name the macro uses: renders as a placeholder, is true, iterates once, calls to itself."""

    def __str__(self) -> str:
        return PLACEHOLDER

    def __iter__(self) -> Iterator[str]:
        yield PLACEHOLDER

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return 1

    def __call__(self, *args: object, **kwargs: object) -> _Placeholder:
        return _Placeholder(name="call")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Placeholder)

    def __hash__(self) -> int:
        return 0


def _environment() -> jinja2.Environment:
    return jinja2.Environment(undefined=_Placeholder, extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


def _render(body: str) -> str | None:
    """The body with placeholders; None when it cannot be rendered without dbt (it calls dbt)."""
    environment = _environment()
    # dbt's `return` ends a macro: here it renders nothing.
    environment.globals["return"] = lambda *args, **kwargs: ""
    try:
        return environment.from_string(body).render()
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError):
        return None


def _blocks(source: str) -> Iterator[tuple[str, str, int, str, str]]:
    """(kind, name, line, body, owner) for every macro, test, set and call block with a body."""
    tag = re.compile(r"{%-?\s*(macro|test|set|call|endmacro|endtest|endset|endcall)\b(.*?)-?%}", re.S)
    stack: list[tuple[str, str, int, int]] = []
    owner = ""
    for match in tag.finditer(source):
        kind, rest = match.group(1), match.group(2)
        if kind == "set" and "=" in rest:
            continue  # `{% set x = … %}` has no body
        if kind in _BODY_BLOCKS:
            name = rest.strip().split("(")[0].strip()
            if kind in ("macro", "test"):
                owner = name
            stack.append((kind, name, source.count("\n", 0, match.end()) + 1, match.end()))
        elif stack and _BODY_BLOCKS[stack[-1][0]] == kind:
            open_kind, name, line, start = stack.pop()
            yield open_kind, name, line, source[start:match.start()], owner


def _string_chains(source: str) -> Iterator[list[tuple[str, int]]]:
    """Each concatenation that starts with a string: its pieces (text, line), expressions as None."""
    tokens = [token for token in _environment().lexer.tokenize(source) if token.type != "whitespace"]
    for index, token in enumerate(tokens):
        if token.type != "string" or (index > 0 and tokens[index - 1].type == "tilde"):
            continue
        pieces: list[tuple[str, int]] = [(token.value, token.lineno)]
        position = index + 1
        while position < len(tokens) and tokens[position].type == "tilde":
            position += 1
            if position < len(tokens) and tokens[position].type == "string" and not _continues(tokens, position):
                pieces.append((tokens[position].value, tokens[position].lineno))
                position += 1
                continue
            pieces.append((PLACEHOLDER, tokens[min(position, len(tokens) - 1)].lineno))
            position = _end_of_operand(tokens, position)
        yield pieces


_OPEN = ("lparen", "lbracket", "lbrace")
_CLOSE = ("rparen", "rbracket", "rbrace")


def _continues(tokens: list[Token], position: int) -> bool:
    """Whether the string at `position` is part of a larger operand (`'a' | upper`, `'a'[0]`)."""
    following = tokens[position + 1] if position + 1 < len(tokens) else None
    return following is not None and following.type in ("pipe", "lbracket", "dot", "lparen")


def _end_of_operand(tokens: list[Token], position: int) -> int:
    """The index just past the operand of `~` that starts at `position`."""
    depth = 0
    while position < len(tokens):
        token = tokens[position]
        if token.type in _OPEN:
            depth += 1
        elif token.type in _CLOSE:
            if depth == 0:
                return position
            depth -= 1
        elif depth == 0 and token.type in ("tilde", "comma", "block_end", "variable_end"):
            return position
        elif depth == 0 and token.type == "name" and token.value in ("if", "else", "and", "or", "for", "in"):
            return position
        position += 1
    return position


def _chain_fragment(path: Path, pieces: list[tuple[str, int]], owner: str) -> Fragment | None:
    text = "".join(piece for piece, _ in pieces)
    words = text.split()
    if not _STATEMENT.match(text) or (len(words) == 1 and words[0].lower() not in _ONE_WORD_STATEMENTS):
        return None
    char_lines: list[int] = []
    for piece, line in pieces:
        for character in piece:
            char_lines.append(line)
            line += character == "\n"
    # The statement as its own text: no leading blank lines, no trailing spaces; each character
    # keeps its source line.
    skipped = len(text) - len(text.lstrip("\n"))
    sql_lines, positions, offset = [], [], skipped
    for raw in text[skipped:].rstrip().split("\n"):
        sql_lines.append(raw.rstrip())
        positions.append(tuple(char_lines[offset:offset + max(len(raw.rstrip()), 1)]))
        offset += len(raw) + 1
    return Fragment(path, pieces[0][1], f"{owner}: string", "\n".join(sql_lines) + "\n", tuple(positions))


def _tidy(sql: str) -> str:
    """Rendered SQL as its own text: no trailing spaces, no common indentation, one final newline."""
    lines = [line.rstrip() for line in sql.strip("\n").splitlines()]
    return textwrap.dedent("\n".join(lines)).strip("\n") + "\n"


def fragments(path: Path) -> list[Fragment]:
    """Every piece of SQL in one macro file."""
    source = path.read_text()
    found: list[Fragment] = []
    blocks = list(_blocks(source))
    owners = [(line, name) for kind, name, line, _, _ in blocks if kind in ("macro", "test")]
    for kind, name, line, body, owner in blocks:
        rendered = _render(body)
        if rendered is None or not _STATEMENT.match(rendered):
            continue
        label = f"{owner}: {kind} {name}" if kind in ("set", "call") else f"{kind} {name}"
        start = line + (len(body) - len(body.lstrip("\n"))) if body.startswith("\n") else line
        found.append(Fragment(path, start, label, _tidy(rendered)))
    for pieces in _string_chains(source):
        first_line = pieces[0][1]
        owner = next((name for line, name in reversed(owners) if line <= first_line), "")
        fragment = _chain_fragment(path, pieces, owner)
        if fragment is not None:
            found.append(fragment)
    return found


def lint(paths: list[Path], config_root: Path) -> list[Finding]:
    """The findings of the project's rules (its `.sqlfluff`) on the SQL of these macro files."""
    from sqlfluff.core import FluffConfig, Linter

    config = FluffConfig.from_root(overrides={"templater": "raw", "dialect": "postgres"})
    excluded = [rule for rule in (config.get("exclude_rules") or "").split(",") if rule.strip()]
    config = FluffConfig.from_path(str(config_root), overrides={
        "templater": "raw", "dialect": "postgres",
        "exclude_rules": ",".join([*excluded, *FRAGMENT_EXCLUDED_RULES])})
    one_line = FluffConfig.from_path(str(config_root), overrides={
        "templater": "raw", "dialect": "postgres",
        "exclude_rules": ",".join([*excluded, *FRAGMENT_EXCLUDED_RULES, *ONE_LINE_EXCLUDED_RULES])})
    linters = {False: Linter(config=config), True: Linter(config=one_line)}
    findings: list[Finding] = []
    for path in paths:
        for fragment in fragments(path):
            sql_lines = fragment.sql.splitlines()
            linter = linters[len(sql_lines) == 1]
            gap = any(pattern.match(fragment.sql) for pattern in DIALECT_GAPS)
            for violation in linter.lint_string(fragment.sql).get_violations():
                if gap and violation.rule_code() == "PRS":
                    continue
                line_no = violation.line_no
                sql_line = sql_lines[line_no - 1] if 0 < line_no <= len(sql_lines) else ""
                findings.append(Finding(path, fragment.source_line(line_no, violation.line_pos), fragment.where,
                                        violation.rule_code(), violation.desc(), sql_line.strip()))
    return findings


def macro_files(root: Path) -> list[Path]:
    return sorted((root / "macros").rglob("*.sql"))
