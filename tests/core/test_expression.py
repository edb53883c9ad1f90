"""The target-expression parser: right values, the whitelist holds, errors say where, fuzzing."""

import random

import jax.numpy as jnp
import numpy as np
import pytest

from ntklab.core.expression import MAX_LENGTH, ExpressionError, parse_expression

X = np.linspace(-1.9, 2.3, 11)


@pytest.mark.parametrize("text,expected", [
    ("sin(2*x)", np.sin(2 * X)),
    ("x**2 - 3*x + 1", X**2 - 3 * X + 1),
    ("-x**2", -(X**2)),  # ** binds tighter than unary minus, as in Python
    ("2**-1 * x", 0.5 * X),
    ("exp(-x**2/2) / sqrt(2*pi)", np.exp(-X**2 / 2) / np.sqrt(2 * np.pi)),
    ("abs(x) + sign(x) + tanh(x) + floor(x)", np.abs(X) + np.sign(X) + np.tanh(X) + np.floor(X)),
    ("min(x, 0.5) + max(x, -1)", np.minimum(X, 0.5) + np.maximum(X, -1)),
    ("where(x > 0, 1, -1)", np.where(X > 0, 1.0, -1.0)),
    ("(x >= 0) * x", np.where(X >= 0, X, 0.0)),
    ("-1 < x <= 1", ((X > -1) & (X <= 1)).astype(float)),
    ("e**x - exp(x) + 1.5e-1 + .5", np.zeros_like(X) + 0.65),
    ("3", np.full_like(X, 3.0)),
    ("x1 * cosh(x) - sinh(x) + arctan(x)", X * np.cosh(X) - np.sinh(X) + np.arctan(X)),
])
def test_values_match_numpy(text, expected):
    f = parse_expression(text, dim=1)
    np.testing.assert_allclose(f(X[:, None].astype(np.float64)), expected, rtol=1e-13, atol=1e-13)


def test_several_inputs_and_jax_agree_with_numpy():
    f = parse_expression("sin(x1) * x2 - x3**2 + where(x1 > x2, 1, 0)", dim=3)
    x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    expected = np.sin(x[:, 0]) * x[:, 1] - x[:, 2] ** 2 + (x[:, 0] > x[:, 1])
    out_np, out_jax = f(x), np.asarray(f(jnp.asarray(x), xp=jnp))
    assert out_np.dtype == np.float32 and out_jax.dtype == np.float32 and out_np.shape == (50,)
    eps = np.finfo(np.float32).eps  # a few roundings of values of order 10
    np.testing.assert_allclose(out_np, expected, rtol=0, atol=20 * eps * 10)
    np.testing.assert_allclose(out_jax, expected, rtol=0, atol=20 * eps * 10)


def test_outside_the_domain_gives_nan_not_an_exception():
    f = parse_expression("log(x) + 1/0 * 0 + 9**9**9", dim=1)
    out = f(np.array([[-1.0], [1.0]]))
    assert not np.isfinite(out).any()


@pytest.mark.parametrize("text,column,token", [
    ("__import__('os')", 1, "__import__"),
    ("x.real", 2, "."),
    ("x.__class__", 2, "."),
    ("x[0]", 2, "["),
    ("lambda: x", 1, "lambda"),
    ("[a for a in x]", 1, "["),
    ("sum(x for x in (1, 2))", 1, "sum"),
    ("open('/etc/passwd')", 1, "open"),
    ("eval", 1, "eval"),
    ("exp(x) + exec(x)", 10, "exec"),
    ("sin(x) if x else 0", 8, "if"),
    ("'text'", 1, "'"),
    ("x == 1", 3, "="),
    ("sin(x=1)", 6, "="),
    ("sin(*x)", 1, "sin(*x)"),
    ("not x", 1, "not"),
    ("x and 1", 3, "and"),
    ("True", 1, "True"),
    ("y + 1", 1, "y"),
    ("x2", 1, "x2"),  # dim = 1: x and x1 only
    ("sin", 1, "sin"),
    ("sin(x, 2)", 1, "sin(x, 2)"),
    ("where(x, 1)", 1, "where(x, 1)"),
    ("sin(x)(2)", 1, "sin(x)"),
    ("1j", 2, "j"),
    ("0x1f", 2, "x1f"),
    ("x; 1", 2, ";"),
    ("x # c", 3, "#"),
    ("x\n+1", 2, "\n"),
    ("2 ^ x", 3, "^"),
    ("x % 2", 3, "%"),
    ("x, 1", 1, "x, 1"),
    ("1e999", 1, "1e999"),
    ("π*x", 1, "π"),
    ("", 1, ""),
    ("x +", 1, "x"),
])
def test_rejected_with_column_and_token(text, column, token):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, dim=1)
    assert (info.value.column, info.value.token) == (column, token)
    assert str(info.value).startswith(f"expression: column {column}, ")
    assert isinstance(info.value, ValueError)


def test_long_and_deep_input_rejected():
    with pytest.raises(ExpressionError, match=f"keep it to {MAX_LENGTH}"):
        parse_expression("x+" * 500 + "x")
    parse_expression("+".join(["x"] * 500))  # 999 characters: accepted, and still evaluates
    with pytest.raises(ExpressionError, match="parentheses nested"):
        parse_expression("(" * 100 + "x" + ")" * 100)
    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression("-" * 200 + "x")
    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression("sin(" * 45 + "x" + ")" * 45)


def test_dimension_is_checked():
    with pytest.raises(ValueError, match="dim: 0 is not valid"):
        parse_expression("x", dim=0)
    f = parse_expression("x1 + x2", dim=2)
    with pytest.raises(ValueError, match=r"expected shape \(n, 2\)"):
        f(np.zeros((3, 1)))


VOCABULARY = [
    "x", "x1", "x2", "x3", "pi", "e", "sin", "cos", "log", "sqrt", "exp", "min", "max", "where", "abs",
    "(", ")", "(", ")", ",", "+", "-", "*", "/", "**", "<", ">=", "==", "!", "=", "1", "2.5", "0", ".5", "1e3",
    "1e", "1j", "0x1", "__import__", "'os'", '"', ".", "[", "]", "{", "}", ":", ";", "lambda", "for", "in", "if",
    "else", "not", "and", "or", "is", "None", "True", "import", "os", "system", "__class__", "@", "#", "\\",
    "\n", "\t", " ", " ", "π", "é", "\x00", "%", "^", "~", "&", "|", "`", "$", "?", "9" * 30,
]


def test_fuzz_never_raises_anything_but_expression_error():
    """3000 seeded random token strings: parsing raises only ExpressionError; what parses evaluates."""
    rng = random.Random(20240613)
    x = np.random.default_rng(1).uniform(-2, 2, (7, 2))
    accepted = 0
    for _ in range(3000):
        text = "".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 12)))
        try:
            f = parse_expression(text, dim=2)
        except ExpressionError:
            continue
        accepted += 1
        assert f(x).shape == (7,)  # evaluation raises nothing (non-finite values are the caller's matter)
    assert accepted > 50  # the vocabulary does reach valid expressions, so both paths were exercised


def test_a_number_running_into_a_name_gets_a_hint():
    with pytest.raises(ExpressionError, match=r"column 5, '2': .*write a product with \*, e.g. 2\*x"):
        parse_expression("sin(2x)")
