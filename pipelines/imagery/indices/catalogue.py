"""The declarative vegetation-index catalogue (`configs/indices.yaml`) and its safe compilation.

A formula is a numexpr expression over band roles and named constants. It is parsed with
Python's `ast` (never evaluated) and only arithmetic, comparisons and a few numexpr functions
are accepted. Compilation rewrites it so that numexpr keeps float32 end to end and never
returns infinity:

- every number literal and named constant becomes a float32 variable (numexpr computes in
  float64 as soon as one float literal appears, 1.2-1.55x slower, see issue 4), except small
  integer exponents, which numexpr turns into multiplications;
- every division `a / b` becomes `where(b != 0, a / b, nan)`: a zero denominator yields NaN;
- when no division result can be absorbed into a finite value (by x / inf, exp(-inf), x**0,
  a comparison or where()), a second, unguarded text is kept as `fast`: there a zero
  denominator can only give ±inf or NaN in the output, so the kernel runs the cheaper text
  and turns the (rare) non-finite outputs into NaN afterwards, with the same result;
- NaN inputs propagate through arithmetic; a formula with comparisons is additionally masked
  to NaN wherever one of its bands is NaN.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.core.config import configs_dir
from pipelines.core.errors import ConfigError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
FUNCTIONS = frozenset({"sqrt", "abs", "log", "exp", "where"})
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
COMPARE = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}


class IndexSpec(BaseModel):
    """One catalogue entry: a formula over band roles with its valid range and reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    long_name: str
    formula: str
    bands: tuple[str, ...] = Field(description="band roles the formula needs")
    constants: dict[str, float] = Field(default_factory=dict)
    valid_range: tuple[float, float]
    reference: str
    spyndex: str | None = Field(default=None, description="same index in the Awesome Spectral Indices catalogue")

    @model_validator(mode="after")
    def _checked(self) -> "IndexSpec":
        if not NAME.match(self.name):
            raise ValueError(f"index name '{self.name}' must be lower-case letters, digits and '_' (max 32)")
        if self.valid_range[0] >= self.valid_range[1]:
            raise ValueError("valid_range must be [low, high] with low < high")
        used = _names(_parse(self.formula))
        unknown = used - set(self.bands) - set(self.constants)
        if unknown:
            raise ValueError(f"formula uses {sorted(unknown)}, neither bands nor constants; list them under bands")
        unused = set(self.bands) - used
        if unused:
            raise ValueError(f"bands {sorted(unused)} are listed but the formula does not use them")
        return self

    @cached_property
    def program(self) -> "IndexProgram":
        """The formula compiled to an IndexProgram (guarded numexpr text, constants), cached."""
        return _compile(self)


@dataclass(frozen=True)
class IndexProgram:
    """A compiled formula: the guarded numexpr text, the unguarded `fast` text when equivalent
    up to turning non-finite outputs into NaN (else None), and the float32 constant variables."""

    expression: str
    constants: dict[str, np.float32] = field(default_factory=dict)
    fast: str | None = None


def _parse(formula: str) -> ast.Expression:
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"formula '{formula}' is not a valid expression ({exc.msg})") from None
    for node in ast.walk(tree):
        allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant, ast.Call,
                   ast.Compare, ast.USub, ast.UAdd, *BINARY, *COMPARE)
        if not isinstance(node, allowed):
            raise ValueError(f"formula '{formula}' uses {type(node).__name__}; only arithmetic, comparisons "
                             f"and {sorted(FUNCTIONS)} are allowed")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
                                               and not node.keywords):
            raise ValueError(f"formula '{formula}' calls an unsupported function; use {sorted(FUNCTIONS)}")
        if isinstance(node,
                      ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            raise ValueError(f"formula '{formula}' contains the literal {node.value!r}; only numbers are allowed")
    return tree


def _names(tree: ast.AST) -> set[str]:
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls}


class _Writer:
    """Renders the parsed formula as float32-safe numexpr text."""

    def __init__(self, spec: IndexSpec, guard: bool = True):
        self.spec, self.guard = spec, guard
        self.constants: dict[str, np.float32] = {"_nan": np.float32(np.nan), "_zero": np.float32(0)}

    def literal(self, value: float, key: str | None = None) -> str:
        name = f"_k_{key}" if key else f"_c{len(self.constants)}"
        self.constants[name] = np.float32(value)
        return name

    def __call__(self, node: ast.AST) -> str:
        if isinstance(node, ast.Expression):
            return self(node.body)
        if isinstance(node, ast.Constant):
            return self.literal(node.value)
        if isinstance(node, ast.Name):
            return self.literal(self.spec.constants[node.id], node.id) if node.id in self.spec.constants else node.id
        if isinstance(node, ast.UnaryOp):
            return f"(-{self(node.operand)})" if isinstance(node.op, ast.USub) else self(node.operand)
        if isinstance(node, ast.Compare):
            parts = [self(node.left)]
            for op, right in zip(node.ops, node.comparators):
                parts += [COMPARE[type(op)], self(right)]
            return f"({' '.join(parts)})"
        if isinstance(node, ast.Call):
            return f"{node.func.id}({', '.join(self(a) for a in node.args)})"
        left, right = self(node.left), node.right
        if isinstance(node.op, ast.Pow) and isinstance(right, ast.Constant) and float(right.value).is_integer() \
                and 0 <= right.value <= 4:
            return f"({left}**{int(right.value)})"
        right_text = self(right)
        if isinstance(node.op, ast.Div) and self.guard:
            return f"where({right_text} != _zero, {left} / {right_text}, _nan)"
        return f"({left} {BINARY[type(node.op)]} {right_text})"


def _keeps_infinity(node: ast.AST, absorbing: bool = False) -> bool:
    """True when no division sits where an infinity could turn finite (x / inf, exp, x**0, where, compare)."""
    if isinstance(node, ast.Expression):
        return _keeps_infinity(node.body)
    if isinstance(node, ast.Compare):
        return False
    if isinstance(node, ast.Call):
        inner = absorbing or node.func.id not in ("sqrt", "abs", "log")
        return all(_keeps_infinity(arg, inner) for arg in node.args)
    if isinstance(node, ast.UnaryOp):
        return _keeps_infinity(node.operand, absorbing)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Div) and absorbing:
            return False
        positive_power = isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
            and float(node.right.value).is_integer() and 1 <= node.right.value <= 4
        left_absorbs = absorbing or (isinstance(node.op, ast.Pow) and not positive_power)
        right_absorbs = absorbing or isinstance(node.op, (ast.Div, ast.Pow))
        return _keeps_infinity(node.left, left_absorbs) and _keeps_infinity(node.right, right_absorbs)
    return True


def _compile(spec: IndexSpec) -> IndexProgram:
    tree = _parse(spec.formula)
    writer = _Writer(spec)
    text = writer(tree)
    if any(isinstance(n, ast.Compare) for n in ast.walk(tree)):
        finite = " & ".join(f"({b} == {b})" for b in spec.bands)
        text = f"where({finite}, {text}, _nan)"
    fast = None
    if _keeps_infinity(tree):
        unguarded = _Writer(spec, guard=False)
        fast = unguarded(tree)
        assert unguarded.constants.keys() <= writer.constants.keys()
    return IndexProgram(text, writer.constants, fast)


def _entries(path: Path) -> dict[str, dict]:
    if not path.is_file():
        raise ConfigError(path, "<file>", "index catalogue not found", "create it or fix the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(path, "<file>", f"invalid YAML ({exc})", "fix the syntax") from None
    entries = data.get("indices") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(path, "indices", "missing or not a mapping", "write 'indices: {name: {formula: ..., ...}}'")
    return entries


def _spec(path: Path, name: str, entry: Mapping) -> IndexSpec:
    if not isinstance(entry, Mapping):
        raise ConfigError(path, f"indices.{name}", "entry is not a mapping",
                          "give formula, bands, valid_range, reference")
    try:
        spec = IndexSpec.model_validate({**entry, "name": name})
        spec.program  # noqa: B018  (compiles: rejects what numexpr could not run)
        return spec
    except (ValidationError, ValueError) as exc:
        problem = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(path, f"indices.{name}", problem, "correct the entry (see configs/indices.yaml)") from None


@lru_cache(maxsize=16)
def _catalogue(paths: tuple[Path, ...], stamps: tuple[float, ...]) -> dict[str, IndexSpec]:
    catalogue: dict[str, IndexSpec] = {}
    for path in paths:
        for name, entry in _entries(path).items():
            catalogue[str(name)] = _spec(path, str(name), entry)
    return catalogue


def index_catalogue(extra_files: Iterable[str | Path] = ()) -> dict[str, IndexSpec]:
    """The built-in catalogue with farm or user files merged over it (later files win per name)."""
    paths = tuple(Path(p).resolve() for p in [configs_dir() / "indices.yaml", *extra_files])
    stamps = tuple(p.stat().st_mtime if p.is_file() else -1.0 for p in paths)
    return dict(_catalogue(paths, stamps))
