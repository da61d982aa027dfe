"""FlexAttention to Attn: a mask_mod, a score_mod and a BlockMask as a spec.

    spec, operands = attn.flex.from_flex(mask_mod=causal, score_mod=softcap,
                                         heads=8, head_dim=64)
    out = attn.torch.attention(q, k, v, spec=spec, **operands)

The functions are traced once with symbolic arguments (not run on tensors):
their comparisons of `q_idx` and `kv_idx` become mask primitives (causal,
sliding windows, sinks, chunks, documents, prefixes), `&`, `|` and `~` the
mask algebra, and a score_mod's arithmetic an `expr` (per-head tensors
indexed by `h` become head parameters, an added tensor indexed by
b/h/q_idx/kv_idx the `bias` operand). A construct the spec language cannot
say raises ValueError naming it. FlexAttention's indices are raw positions,
so windows and causal masks translate with `align: top_left`; `chunked`
uses Attn's bottom-right position, which agrees when q_len == kv_len.

A BlockMask gives its block size, its mask_mod and its kv_num_blocks /
kv_indices, which Attn's block_sparse mask reads in FlexAttention's own
layout; its full blocks (where mask_mod is all true) join the listed blocks.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Dict, List, Optional, Tuple

import torch

__all__ = ["from_flex"]

_INF = math.inf


class _Untranslatable(ValueError):
    pass


def _fail(what: str):
    raise _Untranslatable(what)


# ---------------------------------------------------------------------------
# mask_mod: integer index forms and mask nodes
# ---------------------------------------------------------------------------


class _Index:
    """cq * q_idx + ck * kv_idx + c, or b / h (usable as tensor indices)."""

    def __init__(self, cq=0, ck=0, c=0, name=None, div=None):
        self.cq, self.ck, self.c, self.name, self.div = cq, ck, c, name, div

    def _form(self, other):
        if isinstance(other, _Index):
            if other.name or other.div:
                _fail(f"mask_mod computes with {other.describe()}")
            return other
        if isinstance(other, bool) or not isinstance(other, int):
            if isinstance(other, torch.Tensor) and other.numel() == 1:
                return _Index(c=int(other.item()))
            _fail(f"mask_mod mixes an index with {other!r}")
        return _Index(c=other)

    def _linear(self):
        if self.name or self.div:
            _fail(f"mask_mod computes with {self.describe()}")
        return self

    def describe(self):
        if self.name:
            return self.name
        if self.div:
            return f"{self.div[0].describe()} // {self.div[1]}"
        terms = []
        for coef, var in ((self.cq, "q_idx"), (self.ck, "kv_idx")):
            if coef:
                terms.append(var if coef == 1 else f"{coef} * {var}")
        if self.c or not terms:
            terms.append(str(self.c))
        return " + ".join(terms)

    def __add__(self, other):
        a, b = self._linear(), self._form(other)
        return _Index(a.cq + b.cq, a.ck + b.ck, a.c + b.c)

    __radd__ = __add__

    def __sub__(self, other):
        a, b = self._linear(), self._form(other)
        return _Index(a.cq - b.cq, a.ck - b.ck, a.c - b.c)

    def __rsub__(self, other):
        return self._form(other) - self

    def __neg__(self):
        a = self._linear()
        return _Index(-a.cq, -a.ck, -a.c)

    def __mul__(self, other):
        a = self._linear()
        if isinstance(other, int) and not isinstance(other, bool):
            return _Index(a.cq * other, a.ck * other, a.c * other)
        _fail(f"mask_mod multiplies {a.describe()} by {other!r}")

    __rmul__ = __mul__

    def __floordiv__(self, other):
        a = self._linear()
        if (isinstance(other, int) and other > 0 and a.c == 0
                and (a.cq, a.ck) in ((1, 0), (0, 1))):
            return _Index(div=(a, other))
        _fail(f"mask_mod divides {a.describe()} by {other!r} (only q_idx // N "
              "and kv_idx // N, as in chunked masks)")

    def __mod__(self, other):
        _fail(f"mask_mod takes {self.describe()} % {other!r}")

    def __bool__(self):
        _fail("mask_mod branches on an index (Python if/and/or); write the "
              "condition with &, | and ~")

    # torch's and_masks / or_masks start from b.new_ones(()) / new_zeros(()).
    def new_ones(self, *args, **kwargs):
        return _Mask("true")

    def new_zeros(self, *args, **kwargs):
        return ~_Mask("true")

    def __abs__(self):
        a = self._linear()
        return _Index(a.cq, a.ck, a.c, div=None, name=None)._absolute()

    def _absolute(self):
        if (self.cq, self.ck) not in ((1, -1), (-1, 1)) or self.c:
            _fail(f"mask_mod takes abs({self.describe()})")
        return _Abs()

    def _compare(self, other, op):
        if isinstance(other, _Lookup):
            return other._compare(self, _FLIP[op])
        if self.div or (isinstance(other, _Index) and other.div):
            b = other if isinstance(other, _Index) else None
            if op == "==" and b is not None and self.div and b.div \
                    and self.div[1] == b.div[1] \
                    and {(self.div[0].cq, self.div[0].ck),
                         (b.div[0].cq, b.div[0].ck)} == {(1, 0), (0, 1)}:
                return _Mask("chunked", size=self.div[1])
            _fail("mask_mod compares "
                  f"{self.describe()} {op} "
                  f"{other.describe() if isinstance(other, _Index) else other}")
        d = self._linear() - self._form(other)
        return _Mask.compare(d, op)

    def __ge__(self, other):
        return self._compare(other, ">=")

    def __gt__(self, other):
        return self._compare(other, ">")

    def __le__(self, other):
        return self._compare(other, "<=")

    def __lt__(self, other):
        return self._compare(other, "<")

    def __eq__(self, other):
        return self._compare(other, "==")

    def __ne__(self, other):
        return ~self._compare(other, "==")

    __hash__ = object.__hash__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return _torch_function(func, args, kwargs or {}, "mask_mod")


class _Abs:
    """abs(q_idx - kv_idx): compared with a constant, a symmetric window."""

    def _window(self, c, op):
        if not isinstance(c, int) or isinstance(c, bool):
            _fail(f"mask_mod compares abs(q_idx - kv_idx) with {c!r}")
        c = c - 1 if op == "<" else c
        if c < 0:
            _fail("mask_mod's abs(q_idx - kv_idx) bound admits no key")
        return _Mask("window", lo=-c, hi=c)

    def __le__(self, c):
        return self._window(c, "<=")

    def __lt__(self, c):
        return self._window(c, "<")

    def __ge__(self, c):
        return ~self._window(c, "<")

    def __gt__(self, c):
        return ~self._window(c, "<=")

    def __bool__(self):
        _fail("mask_mod branches on an index")


_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "=="}


class _Lookup:
    """tensor[indices], indices among b, h, q_idx, kv_idx."""

    def __init__(self, tensor: torch.Tensor, indices: Tuple[Any, ...]):
        self.tensor = tensor
        self.indices = indices

    def axes(self) -> str:
        names = []
        for index in self.indices:
            if isinstance(index, _Index) and index.name:
                names.append(index.name)
            elif isinstance(index, _Index) and (index.cq, index.ck, index.c,
                                                index.div) == (1, 0, 0, None):
                names.append("q")
            elif isinstance(index, _Index) and (index.cq, index.ck, index.c,
                                                index.div) == (0, 1, 0, None):
                names.append("k")
            else:
                _fail("mask_mod indexes a tensor with "
                      f"{getattr(index, 'describe', lambda: repr(index))()}")
        return "".join(names)

    def _compare(self, other, op):
        mine = self.axes()
        if isinstance(other, _Lookup) and op == "==":
            theirs = other.axes()
            pair = {mine: self.tensor, theirs: other.tensor}
            for q_axes, k_axes in (("q", "k"), ("bq", "bk")):
                if set(pair) == {q_axes, k_axes}:
                    return _Mask("document", doc_q=pair[q_axes],
                                 doc_kv=pair[k_axes])
        if isinstance(other, _Index) and mine in ("", "b") and \
                (other.cq, other.ck, other.c, other.name) == (0, 1, 0, None) \
                and op in (">", ">="):
            # tensor[b] > kv_idx: a prefix per batch entry.
            length = self.tensor if op == ">" else self.tensor + 1
            return _Mask("prefix_lm", prefix_len=length)
        _fail(f"mask_mod compares a tensor indexed by [{', '.join(mine)}] "
              f"{op} {other.describe() if hasattr(other, 'describe') else other}"
              " (the spec has document ids, doc[q_idx] == doc[kv_idx], and "
              "prefixes, kv_idx < prefix[b])")

    def __eq__(self, other):
        return self._compare(other, "==")

    def __ne__(self, other):
        return ~self._compare(other, "==")

    def __gt__(self, other):
        return self._compare(other, ">")

    def __ge__(self, other):
        return self._compare(other, ">=")

    def __lt__(self, other):
        _fail("mask_mod compares a tensor < an index; write index > tensor")

    __le__ = __lt__
    __hash__ = object.__hash__

    def __bool__(self):
        _fail("mask_mod branches on a tensor value")

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return _torch_function(func, args, kwargs or {}, "mask_mod")


class _Mask:
    """A mask node: kinds causal-like intervals, sinks, chunked, document,
    prefix_lm, and, or, not."""

    def __init__(self, kind, children=(), **fields):
        self.kind = kind
        self.children = list(children)
        self.fields = fields

    @staticmethod
    def compare(d: _Index, op: str) -> "_Mask":
        """The mask of `d op 0`."""
        if op == "==":
            return _Mask.compare(d, ">=") & _Mask.compare(d, "<=")
        if op in ("<=", "<"):
            d, op = -d, ">=" if op == "<=" else ">"
        if op == ">":
            d = d - 1
        # d >= 0 with d = cq q + ck k + c.
        if (d.cq, d.ck) == (1, -1):  # k - q <= c
            return _Mask("window", lo=-_INF, hi=d.c)
        if (d.cq, d.ck) == (-1, 1):  # k - q >= -c
            return _Mask("window", lo=-d.c, hi=_INF)
        if (d.cq, d.ck) == (0, -1):  # k <= c
            return _Mask("sinks", count=d.c + 1)
        if (d.cq, d.ck) == (0, 1):  # k >= -c
            return _Mask("true") if -d.c <= 0 else ~_Mask("sinks", count=-d.c)
        _fail(f"mask_mod tests {d.describe()} >= 0 (the spec's masks compare "
              "kv_idx with q_idx plus a constant, or with a constant)")

    def __and__(self, other):
        other = _as_mask(other)
        return _Mask("and", [self, other])

    __rand__ = __and__

    def __or__(self, other):
        other = _as_mask(other)
        return _Mask("or", [self, other])

    __ror__ = __or__

    def __invert__(self):
        return _Mask("not", [self])

    def __bool__(self):
        _fail("mask_mod branches on a mask (Python if/and/or/not); write it "
              "with &, | and ~")

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return _torch_function(func, args, kwargs or {}, "mask_mod")


def _as_mask(value):
    if isinstance(value, _Mask):
        return value
    if isinstance(value, bool):
        return _Mask("true") if value else ~_Mask("true")
    _fail(f"mask_mod combines a mask with {value!r}")


_MASK_FUNCS = {
    torch.logical_and: operator.and_, torch.logical_or: operator.or_,
    torch.logical_not: operator.invert, torch.bitwise_and: operator.and_,
    torch.bitwise_or: operator.or_, torch.bitwise_not: operator.invert,
    torch.Tensor.__and__: operator.and_, torch.Tensor.__or__: operator.or_,
    torch.Tensor.__invert__: operator.invert,
    torch.ge: operator.ge, torch.gt: operator.gt, torch.le: operator.le,
    torch.lt: operator.lt, torch.eq: operator.eq, torch.ne: operator.ne,
    torch.Tensor.__ge__: operator.ge, torch.Tensor.__gt__: operator.gt,
    torch.Tensor.__le__: operator.le, torch.Tensor.__lt__: operator.lt,
    torch.Tensor.__eq__: operator.eq, torch.Tensor.__ne__: operator.ne,
    torch.Tensor.__add__: operator.add, torch.Tensor.__radd__: operator.add,
    torch.Tensor.__sub__: operator.sub,
    torch.Tensor.__rsub__: lambda a, b: operator.sub(b, a),
}


def _torch_function(func, args, kwargs, where):
    if func is torch.Tensor.__getitem__:
        tensor, index = args
        if not isinstance(index, tuple):
            index = (index,)
        if where == "score_mod":
            return _Expr.lookup(tensor, index)
        return _Lookup(tensor, index)
    if where == "score_mod" and func in _EXPR_FUNCS:
        return _EXPR_FUNCS[func](*args, **kwargs)
    if where == "mask_mod" and func in _MASK_FUNCS and not kwargs:
        return _MASK_FUNCS[func](*args)
    name = getattr(func, "__name__", repr(func))
    _fail(f"{where} calls torch.{name}, which the spec language has no form "
          "for")


# ---------------------------------------------------------------------------
# Mask nodes to the spec's mask
# ---------------------------------------------------------------------------


class _MaskWriter:
    def __init__(self, q_len, kv_len):
        self.q_len, self.kv_len = q_len, kv_len
        self.operands: Dict[str, torch.Tensor] = {}

    def operand(self, name, tensor):
        previous = self.operands.get(name)
        if previous is not None and previous is not tensor:
            _fail(f"mask_mod reads two different tensors as '{name}' (a spec "
                  "has one such operand)")
        self.operands[name] = tensor

    def write(self, node: _Mask):
        """The spec's mask of `node`; None when every key is visible."""
        kind = node.kind
        if kind == "true":
            return None
        if kind == "and":
            parts = _flatten(node, "and")
            windows = [p for p in parts if p.kind == "window"]
            others = [w for w in (self.write(p) for p in parts
                                  if p.kind != "window") if w is not None]
            if windows:
                lo = max(w.fields["lo"] for w in windows)
                hi = min(w.fields["hi"] for w in windows)
                others.insert(0, self.window(lo, hi))
            if not others:
                return None
            return others[0] if len(others) == 1 else others
        if kind == "or":
            parts = [p for p in _flatten(node, "or") if not _is_false(p)]
            written = [self.write(p) for p in parts]
            if not written:
                _fail("mask_mod admits no key")
            if any(w is None for w in written):
                return None
            return written[0] if len(written) == 1 else {"any": written}
        if kind == "not":
            child = node.children[0]
            if child.kind == "not":
                return self.write(child.children[0])
            written = self.write(child)
            if written is None:
                _fail("mask_mod admits no key")
            return {"not": written}
        if kind == "window":
            return self.window(node.fields["lo"], node.fields["hi"])
        if kind == "sinks":
            if node.fields["count"] < 1:
                _fail("mask_mod's kv_idx bound admits no key")
            return {"sinks": node.fields["count"]}
        if kind == "chunked":
            if self.q_len is None or self.kv_len is None \
                    or self.q_len != self.kv_len:
                _fail("a chunked mask_mod needs q_len == kv_len, given to "
                      "from_flex (FlexAttention chunks raw indices, Attn the "
                      "bottom-right aligned position; they agree only then)")
            return {"chunked": node.fields["size"]}
        if kind == "document":
            self.operand("doc_q", node.fields["doc_q"])
            self.operand("doc_kv", node.fields["doc_kv"])
            return "document"
        if kind == "prefix_lm":
            self.operand("prefix_len", node.fields["prefix_len"])
            return {"prefix_lm": "operand"}
        raise AssertionError(kind)

    def window(self, lo, hi):
        """kv_idx - q_idx in [lo, hi] as causal or a sliding window."""
        if lo > 0 or hi < 0:
            _fail(f"mask_mod's window kv_idx - q_idx in [{lo}, {hi}] leaves "
                  "out the diagonal (a spec's sliding_window holds it)")
        if lo == -_INF and hi == 0:
            return {"causal": {"align": "top_left"}}
        # An open side reaches past any sequence.
        left = _OPEN if lo == -_INF else -lo
        right = _OPEN if hi == _INF else hi
        return {"sliding_window": {"left": int(left), "right": int(right),
                                   "align": "top_left"}}


_OPEN = 1 << 30


def _is_false(node):
    return node.kind == "not" and node.children[0].kind == "true"


def _flatten(node, kind):
    if node.kind != kind:
        return [node]
    return [leaf for child in node.children for leaf in _flatten(child, kind)]


# ---------------------------------------------------------------------------
# score_mod: expressions
# ---------------------------------------------------------------------------


class _Expr:
    """A score_mod value: an expression tree over score, b, h, q_idx,
    kv_idx, numbers, per-head parameters and an additive bias."""

    def __init__(self, op, *args, boolean=False):
        self.op, self.args, self.boolean = op, args, boolean

    @staticmethod
    def of(value) -> "_Expr":
        if isinstance(value, _Expr):
            return value
        if isinstance(value, bool):
            _fail("score_mod uses a boolean constant")
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                _fail(f"score_mod uses {value} (the expr language has finite "
                      "numbers; write -1e30 for a score that must vanish)")
            return _Expr("num", float(value))
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return _Expr.of(value.item())
        _fail(f"score_mod computes with {type(value).__name__} {value!r}")

    @staticmethod
    def lookup(tensor, index):
        names = []
        for i in index:
            if not (isinstance(i, _Expr) and i.op == "var"
                    and i.args[0] in ("b", "h", "q_idx", "kv_idx")):
                _fail("score_mod indexes a tensor with something other than "
                      "b, h, q_idx or kv_idx")
            names.append(i.args[0])
        if names == ["h"]:
            return _Expr("param", tensor)
        axes = [{"b": "b", "h": "h", "q_idx": "q", "kv_idx": "k"}[n]
                for n in names]
        if axes != sorted(axes, key="bhqk".index) or len(set(axes)) != len(axes):
            _fail(f"score_mod indexes a tensor by [{', '.join(names)}] (a bias "
                  "is indexed by a subset of b, h, q_idx, kv_idx in order)")
        return _Expr("bias", tensor, axes)

    def _bin(self, op, other, boolean=False, swap=False):
        other = _Expr.of(other)
        a, b = (other, self) if swap else (self, other)
        return _Expr("bin", op, a, b, boolean=boolean)

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, swap=True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, swap=True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, swap=True)
    def __truediv__(self, o): return self._bin("/", o)
    def __rtruediv__(self, o): return self._bin("/", o, swap=True)
    def __neg__(self): return _Expr("neg", self)
    def __lt__(self, o): return self._bin("<", o, True)
    def __le__(self, o): return self._bin("<=", o, True)
    def __gt__(self, o): return self._bin(">", o, True)
    def __ge__(self, o): return self._bin(">=", o, True)
    def __eq__(self, o): return self._bin("==", o, True)
    def __ne__(self, o): return self._bin("!=", o, True)
    def __and__(self, o): return self._bin("&&", o, True)
    def __or__(self, o): return self._bin("||", o, True)
    def __invert__(self): return _Expr("not", self, boolean=True)
    __hash__ = object.__hash__

    def __bool__(self):
        _fail("score_mod branches on a value (Python if/and/or); write "
              "torch.where(condition, a, b)")

    def __floordiv__(self, o):
        _fail("score_mod uses //, which the expr language has no form for")

    __mod__ = __pow__ = __floordiv__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return _torch_function(func, args, kwargs or {}, "score_mod")


def _call(name, arity):
    def make(*args, **kwargs):
        if kwargs or len(args) != arity:
            _fail(f"score_mod calls {name} with other arguments than "
                  f"{arity} values")
        return _Expr("call", name, *(_Expr.of(a) for a in args))
    return make


_EXPR_FUNCS = {
    torch.tanh: _call("tanh", 1), torch.Tensor.tanh: _call("tanh", 1),
    torch.exp: _call("exp", 1), torch.Tensor.exp: _call("exp", 1),
    torch.log: _call("log", 1), torch.Tensor.log: _call("log", 1),
    torch.sqrt: _call("sqrt", 1), torch.Tensor.sqrt: _call("sqrt", 1),
    torch.abs: _call("abs", 1), torch.Tensor.abs: _call("abs", 1),
    torch.sigmoid: _call("sigmoid", 1), torch.Tensor.sigmoid: _call("sigmoid", 1),
    torch.minimum: _call("min", 2), torch.maximum: _call("max", 2),
    torch.where: _call("where", 3),
    torch.Tensor.__add__: operator.add, torch.Tensor.__radd__: operator.add,
    torch.Tensor.__sub__: operator.sub,
    torch.Tensor.__rsub__: lambda a, b: operator.sub(b, a),
    torch.Tensor.__mul__: operator.mul, torch.Tensor.__rmul__: operator.mul,
    torch.Tensor.__truediv__: operator.truediv,
    torch.Tensor.__neg__: operator.neg, torch.neg: operator.neg,
    torch.Tensor.__getitem__: None,  # handled in _torch_function
}


class _ExprWriter:
    def __init__(self):
        self.params: List[torch.Tensor] = []
        self.bias: Optional[Tuple[torch.Tensor, List[str]]] = None

    def text(self, e: _Expr) -> str:
        op = e.op
        if op == "var":
            return e.args[0]
        if op == "num":
            value = e.args[0]
            text = repr(abs(value))
            text = text if "e" in text or "." in text else text + ".0"
            return f"(-{text})" if value < 0 else text
        if op == "param":
            for i, p in enumerate(self.params):
                if p is e.args[0]:
                    return f"p{i}[h]"
            self.params.append(e.args[0])
            return f"p{len(self.params) - 1}[h]"
        if op == "bin":
            sym, a, b = e.args
            return f"({self.text(a)} {sym} {self.text(b)})"
        if op == "neg":
            return f"(-{self.text(e.args[0])})"
        if op == "not":
            return f"!({self.text(e.args[0])})"
        if op == "call":
            name, *args = e.args
            return f"{name}({', '.join(self.text(a) for a in args)})"
        if op == "bias":
            _fail("score_mod adds a bias tensor somewhere other than to the "
                  "score itself or to the final result")
        raise AssertionError(op)


def _score_mods(e: _Expr) -> Tuple[List[dict], Dict[str, torch.Tensor],
                                   List[torch.Tensor]]:
    """The score modifiers of a traced score_mod."""
    if e.boolean:
        _fail("score_mod returns a boolean")
    mods: List[dict] = []
    bias_first = bias_last = None

    def count(node, test):
        here = 1 if test(node) else 0
        return here + sum(count(a, test) for a in node.args
                          if isinstance(a, _Expr))

    def is_score(node):
        return node.op == "var" and node.args[0] == "score"

    def is_bias(node):
        return node.op == "bias"

    def split_sum(node):
        """(bias, other) when `node` is bias + other or other + bias."""
        if node.op == "bin" and node.args[0] == "+":
            a, b = node.args[1], node.args[2]
            if is_bias(a):
                return a, b
            if is_bias(b):
                return b, a
        return None, node

    biases = count(e, is_bias)
    if biases > 1:
        _fail("score_mod adds two bias tensors (a spec has one bias operand)")
    rest = e
    if biases:
        bias, other = split_sum(e)
        if bias is not None:
            # (anything) + bias: the bias comes last.
            bias_last, rest = bias, other
        elif count(e, is_score) == 1:
            # f(score + bias) with score used once: the bias comes first.
            def replace(node):
                nonlocal bias_first
                found, other = split_sum(node)
                if found is not None and is_score(other):
                    bias_first = found
                    return other
                if node.op in ("bin", "neg", "not", "call"):
                    return _Expr(node.op, *[replace(a) if isinstance(a, _Expr)
                                            else a for a in node.args],
                                 boolean=node.boolean)
                return node
            rest = replace(e)
        if bias_first is None and bias_last is None:
            _fail("score_mod adds a bias tensor other than to the final "
                  "result or to a score it uses once (a spec's bias is added "
                  "to the score before or after the other modifiers)")

    operands: Dict[str, torch.Tensor] = {}
    for bias in (bias_first, bias_last):
        if bias is not None:
            tensor, axes = bias.args
            operands["bias"] = tensor
            entry = {"bias": {"broadcast": axes}}
    if bias_first is not None:
        mods.append(entry)
    writer = _ExprWriter()
    if not (rest.op == "var" and rest.args[0] == "score"):
        softcap = _softcap(rest)
        if softcap is not None:
            mods.append({"softcap": softcap})
        else:
            mods.append({"expr": writer.text(rest)})
    if bias_last is not None:
        mods.append(entry)
    return mods, operands, writer.params


def _softcap(e: _Expr) -> Optional[float]:
    """c * tanh(score / c) as a softcap of c."""
    if e.op != "bin" or e.args[0] != "*":
        return None
    for cap, call in ((e.args[1], e.args[2]), (e.args[2], e.args[1])):
        if cap.op == "num" and call.op == "call" and call.args[0] == "tanh":
            inner = call.args[1]
            if inner.op == "bin" and inner.args[0] in ("/", "*") \
                    and inner.args[1].op == "var" \
                    and inner.args[1].args[0] == "score" \
                    and inner.args[2].op == "num":
                c = cap.args[0]
                scale = inner.args[2].args[0]
                if c > 0 and ((inner.args[0] == "/" and scale == c) or
                              (inner.args[0] == "*" and scale * c == 1.0)):
                    return c
    return None


# ---------------------------------------------------------------------------
# from_flex
# ---------------------------------------------------------------------------


def _trace_mask(mask_mod) -> _Mask:
    result = mask_mod(_Index(name="b"), _Index(name="h"), _Index(cq=1),
                      _Index(ck=1))
    if isinstance(result, bool):
        return _as_mask(result)
    if not isinstance(result, _Mask):
        _fail(f"mask_mod returns {type(result).__name__}, not a comparison of "
              "indices")
    return result


def _block_sparse(block_mask):
    """kv_num_blocks / kv_indices with the full blocks joined in."""
    num, idx = block_mask.kv_num_blocks, block_mask.kv_indices
    full_num = getattr(block_mask, "full_kv_num_blocks", None)
    full_idx = getattr(block_mask, "full_kv_indices", None)
    if full_num is None:
        return num.to(torch.int32), idx.to(torch.int32)
    width = idx.shape[-1]
    j = torch.arange(width, device=idx.device)
    partial = j < num.unsqueeze(-1)
    from_full = (j >= num.unsqueeze(-1)) & (j < (num + full_num).unsqueeze(-1))
    shifted = (j - num.unsqueeze(-1)).clamp(min=0, max=width - 1)
    joined = torch.where(partial, idx,
                         torch.where(from_full,
                                     torch.gather(full_idx, -1, shifted.long()),
                                     torch.zeros_like(idx)))
    return (num + full_num).to(torch.int32), joined.to(torch.int32).contiguous()


def from_flex(mask_mod=None, score_mod=None, *, block_mask=None,
              heads: int, head_dim: int, kv_heads: Optional[int] = None,
              scale: Optional[float] = None, dtype: str = "f32",
              layout: str = "bhsd", q_len: Optional[int] = None,
              kv_len: Optional[int] = None, batch: int = 1,
              outputs=("out",), name: str = "flex") -> Tuple[dict, Dict[str, torch.Tensor]]:
    """The spec (a dict) and operands of FlexAttention's
    `flex_attention(q, k, v, score_mod=score_mod, block_mask=block_mask,
    scale=scale)` for q of `heads` heads (k, v of `kv_heads`, GQA when
    fewer) and head dim `head_dim`. `mask_mod` defaults to the BlockMask's.
    1-D document ids are expanded to `batch` rows. Raises ValueError naming
    what does not translate."""
    spec: Dict[str, Any] = {"name": name, "dtype": dtype, "head_dim": head_dim,
                            "heads": {"q": heads, "kv": kv_heads or heads},
                            "layout": layout}
    if scale is not None:
        spec["scale"] = float(scale)
    operands: Dict[str, torch.Tensor] = {}
    masks = []
    if block_mask is not None:
        if mask_mod is None:
            mask_mod = block_mask.mask_mod
        lengths = getattr(block_mask, "seq_lengths", None)
        if lengths is not None:
            q_len = q_len if q_len is not None else int(lengths[0])
            kv_len = kv_len if kv_len is not None else int(lengths[1])
        bq, bk = block_mask.BLOCK_SIZE
        masks.append({"block_sparse": {"block": [int(bq), int(bk)]}})
        operands["kv_num_blocks"], operands["kv_indices"] = \
            _block_sparse(block_mask)
    try:
        if mask_mod is not None and not _is_noop_mask(mask_mod):
            writer = _MaskWriter(q_len, kv_len)
            written = writer.write(_trace_mask(mask_mod))
            if written is not None:
                masks.insert(0, written)
            for key, tensor in writer.operands.items():
                operands[key] = _mask_operand(key, tensor, batch)
        if score_mod is not None:
            traced = score_mod(_Expr("var", "score"), _Expr("var", "b"),
                               _Expr("var", "h"), _Expr("var", "q_idx"),
                               _Expr("var", "kv_idx"))
            mods, extra, params = _score_mods(_Expr.of(traced))
            if mods:
                spec["score"] = mods
            operands.update(extra)
            if params:
                spec["head_params"] = [f"p{i}" for i in range(len(params))]
                operands["head_params"] = torch.stack(
                    [p.to(torch.float32).reshape(-1) for p in params], dim=1)
    except _Untranslatable as error:
        raise ValueError(f"cannot translate to an Attn spec: {error}") from None
    if masks:
        spec["mask"] = masks[0] if len(masks) == 1 else masks
    spec["outputs"] = list(outputs)
    return spec, operands


def _is_noop_mask(mask_mod) -> bool:
    return getattr(mask_mod, "__name__", "") == "noop_mask"


def _mask_operand(key, tensor, batch):
    tensor = tensor.to(torch.int32)
    if key in ("doc_q", "doc_kv") and tensor.dim() == 1:
        return tensor.unsqueeze(0).expand(batch, -1)
    if key == "prefix_len" and tensor.dim() == 0:
        return tensor.reshape(1).expand(batch)
    return tensor
