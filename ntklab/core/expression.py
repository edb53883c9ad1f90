"""Targets typed as text: an expression of x (or x1, x2, …) checked against a whitelist, never eval'd.

The text goes through three gates, each of which names the column (1-based) and the token it stops
at: a tokenizer that knows only numbers, names, ``+ - * / ** ( ) , < <= > >=`` and blanks; a name
check (the inputs, ``pi``, ``e`` and the functions of :data:`FUNCTIONS`); then Python's ``ast``
parser, whose tree is walked node by node against a whitelist and compiled into closures over
NumPy or ``jax.numpy`` functions. No ``eval``, ``exec`` or ``compile`` of a code object is ever
called on the text.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MAX_LENGTH = 1000  # characters
MAX_DEPTH = 40  # nesting of the parsed tree (calls, parentheses, unary and right-leaning operators)
MAX_DIM = 100  # input names x1 … x100

# name -> (number of arguments, the array function of a module ``xp``: numpy or jax.numpy)
FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "sin": (1, lambda xp: xp.sin), "cos": (1, lambda xp: xp.cos), "tan": (1, lambda xp: xp.tan),
    "arcsin": (1, lambda xp: xp.arcsin), "arccos": (1, lambda xp: xp.arccos),
    "arctan": (1, lambda xp: xp.arctan), "sinh": (1, lambda xp: xp.sinh), "cosh": (1, lambda xp: xp.cosh),
    "tanh": (1, lambda xp: xp.tanh), "exp": (1, lambda xp: xp.exp), "log": (1, lambda xp: xp.log),
    "sqrt": (1, lambda xp: xp.sqrt), "abs": (1, lambda xp: xp.abs), "sign": (1, lambda xp: xp.sign),
    "floor": (1, lambda xp: xp.floor),
    "min": (2, lambda xp: xp.minimum), "max": (2, lambda xp: xp.maximum),
    "where": (3, lambda xp: lambda c, a, b: xp.where(c != 0, a, b)),
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_TOKEN = re.compile(r"""
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|[-+*/(),<>])
  | (?P<blank>[ \t]+)
""", re.VERBOSE)

_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}
_COMPARE = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
            ast.GtE: lambda a, b: a >= b}


class ExpressionError(ValueError):
    """A target expression that cannot be used: ``column`` (1-based) and ``token`` say where."""

    def __init__(self, column: int, token: str, problem: str):
        self.column, self.token, self.problem = column, token, problem
        shown = token if len(token) <= 24 else token[:21] + "…"
        super().__init__(f"expression: column {column}, {shown!r}: {problem}")


def input_names(dim: int) -> list[str]:
    """The names an expression of ``dim`` inputs may use: ``x`` (= x1) and x1 … x{dim}."""
    return ["x"] + [f"x{i}" for i in range(1, dim + 1)]


@dataclass(frozen=True)
class Expression:
    """A checked expression of ``dim`` inputs; ``expr(x)`` with x (n, dim) gives the target (n,).

    ``expr(x, xp=jax.numpy)`` builds the same function from JAX operations (traceable, jit-able).
    Values outside a function's domain give NaN or inf (NumPy's floating-point warnings are off):
    the caller decides what a non-finite target means.
    """

    text: str
    dim: int
    _fn: Callable = field(repr=False, compare=False)

    def __call__(self, x, xp=np):
        x = xp.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x: expected shape (n, {self.dim}); got {tuple(x.shape)}.")
        columns = {f"x{i + 1}": x[:, i] for i in range(self.dim)}
        columns["x"] = columns["x1"]
        if xp is np:
            with np.errstate(all="ignore"):
                out = self._fn(columns, xp)
        else:
            out = self._fn(columns, xp)
        return xp.broadcast_to(xp.asarray(out, dtype=x.dtype), (x.shape[0],))


def parse_expression(text: str, dim: int = 1) -> Expression:
    """Checks ``text`` against the whitelist and compiles it; raises :class:`ExpressionError`."""
    if not isinstance(dim, int) or isinstance(dim, bool) or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"dim: {dim!r} is not valid; use an integer from 1 to {MAX_DIM}.")
    if not isinstance(text, str):
        raise ExpressionError(1, repr(text), "not text; write the target as a string such as 'sin(2*x)'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(MAX_LENGTH + 1, text[MAX_LENGTH:],
                              f"the expression is {len(text)} characters long; keep it to {MAX_LENGTH}")
    _check_tokens(text, dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the parser's SyntaxWarnings; its errors are caught below
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            column = max(1, min(exc.offset or 1, len(text) + 1))
            hint = ("a number runs into a name; write a product with *, e.g. 2*x" if "decimal literal" in exc.msg
                    else "check the operators and parentheses")
            raise ExpressionError(column, _token_at(text, column - 1),
                                  f"not a valid expression ({exc.msg}); {hint}") from None
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError(1, text[:10], "too deeply nested; simplify the expression") from None
    fn = _compile(tree.body, text, dim, depth=1)
    return Expression(text=text, dim=dim, _fn=fn)


def _check_tokens(text: str, dim: int) -> None:
    """Only known tokens and names, parentheses nested at most :data:`MAX_DEPTH` deep."""
    if not text.strip():
        raise ExpressionError(1, text, "empty; write a target such as 'sin(2*x)'")
    allowed = set(input_names(dim)) | set(CONSTANTS) | set(FUNCTIONS)
    pos, depth = 0, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(pos + 1, text[pos], "this character is not allowed; an expression has numbers, "
                                  "names, + - * / ** ( ) , and < <= > >=")
        token = match.group()
        if match.lastgroup == "name" and token not in allowed:
            raise ExpressionError(pos + 1, token, f"not a known name; use {_names_hint(dim)}")
        if token == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(pos + 1, token, f"parentheses nested more than {MAX_DEPTH} deep")
        elif token == ")":
            depth -= 1
        pos = match.end()


def _names_hint(dim: int) -> str:
    inputs = "x" if dim == 1 else ("x1, x2" if dim == 2 else f"x1 … x{dim}")
    return f"{inputs}, pi, e, {', '.join(FUNCTIONS)}"


def _token_at(text: str, index: int) -> str:
    match = _TOKEN.match(text, index) if index < len(text) else None
    if match is None or match.lastgroup == "blank":
        return text[index : index + 1] or "end of text"
    return match.group()


def _fail(node: ast.AST, text: str, problem: str):
    start = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", None) or start + 1
    raise ExpressionError(start + 1, text[start:end], problem)


def _compile(node: ast.AST, text: str, dim: int, depth: int) -> Callable:
    """The closure ``(columns, xp) -> array`` of a whitelisted node; anything else raises."""
    if depth > MAX_DEPTH:
        _fail(node, text, f"nested more than {MAX_DEPTH} levels deep; simplify the expression")
    sub = lambda child: _compile(child, text, dim, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(node, text, "only numbers may appear as constants")
        try:
            number = np.float64(value)  # NumPy scalars: 1/0 and 9**9**9 give inf, not a Python exception
        except OverflowError:
            number = np.float64(math.inf)
        if not math.isfinite(number):
            _fail(node, text, "this number is too large for floating point")
        return lambda cols, xp: number
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            constant = np.float64(CONSTANTS[node.id])
            return lambda cols, xp: constant
        if node.id in input_names(dim):
            name = node.id
            return lambda cols, xp: cols[name]
        if node.id in FUNCTIONS:
            _fail(node, text, f"a function; call it with its argument(s), e.g. {node.id}(x)")
        _fail(node, text, f"not a known name; use {_names_hint(dim)}")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        # a left-leaning chain a + b − c + … is one level, evaluated in a loop: long sums stay shallow
        chain = []
        while isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            chain.append((_BINARY[type(node.op)], node.right))
            node = node.left
        first, rest = sub(node), [(op, sub(right)) for op, right in reversed(chain)]

        def binary(cols, xp):
            value = first(cols, xp)
            for op, right in rest:
                value = op(value, right(cols, xp))
            return value

        return binary
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        op, operand = _UNARY[type(node.op)], sub(node.operand)
        return lambda cols, xp: op(operand(cols, xp))
    if isinstance(node, ast.Compare) and all(type(o) in _COMPARE for o in node.ops):
        ops = [_COMPARE[type(o)] for o in node.ops]
        terms = [sub(node.left)] + [sub(c) for c in node.comparators]

        def compare(cols, xp):
            values = [t(cols, xp) for t in terms]
            result = 1.0
            for op, a, b in zip(ops, values, values[1:]):
                result = result * xp.where(op(a, b), 1.0, 0.0)
            return result

        return compare
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            _fail(node.func, text, f"not a function you can call; use one of {', '.join(FUNCTIONS)}")
        name = node.func.id
        arity, make = FUNCTIONS[name]
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            _fail(node, text, f"{name}() takes plain arguments only")
        if len(node.args) != arity:
            _fail(node, text, f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, "
                              f"got {len(node.args)}")
        args = [sub(a) for a in node.args]
        return lambda cols, xp: make(xp)(*(a(cols, xp) for a in args))
    _fail(node, text, f"{type(node).__name__.lower()} is not allowed here; use numbers, "
                      f"{_names_hint(dim)} and + - * / **")
