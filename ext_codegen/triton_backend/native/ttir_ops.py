"""What the generic line parser of :mod:`ext_codegen.triton_backend.native.ttir` has to know about individual ops.

Two things differ from op to op in MLIR's custom assembly:

* ops with regions define the regions' block arguments in their header
  (``scf.for %iv = ... iter_args(%acc = %init) -> (...) : i32 {``,
  ``scf.while (%a = %x) : (...) -> (...) {``) instead of a ``^bb0(...)`` label;
* where the result type is: after ``->`` or ``to`` for most, the last type for
  binary ops, derived for ``cmpi``/``cmpf`` (i1), ``tt.load`` (the pointee)
  and ``select`` (the last of two types).
"""

from __future__ import annotations

import re

from .ttir import Type, Unsupported, parse_attr_value, parse_type, parse_types, split_top

_SSA = re.compile(r"%[\w$.\-]+(?:#\d+)?")
_KEYVAL = re.compile(r"\b(\w+)\s*=\s*([\w.]+)")
_FASTMATH = re.compile(r"fastmath<[^>]*>")


def _split_sig(text: str) -> tuple[str, str]:
    """``head : sig`` at the last top-level `` : ``."""
    parts = split_top(" " + text + " ", " : ", keep_empty=True)
    if len(parts) <= 1:
        return (parts[0] if parts else ""), ""
    return " : ".join(parts[:-1]), parts[-1]


def _arrow(sig: str):
    parts = split_top(sig, "->")
    return parts[-1] if len(parts) > 1 else None


def before_regions(p, op, text: str) -> list:
    """Parse what a region needs before its body: returns one list of block arguments per region."""
    if op.name == "scf.for":
        m = re.match(r"\s*(%[\w$.\-]+)\s*=\s*(%\S+)\s+to\s+(%\S+)\s+step\s+(%\S+)(.*)$", text)
        if not m:
            raise Unsupported("scf.for header")
        rest, iv_ty = _split_sig(m.group(5))
        op.operands = [p.value(m.group(k)) for k in (2, 3, 4)]
        inits = re.search(r"iter_args\((.*)\)\s*->", rest)
        result_types = parse_types(_arrow(rest)) if "->" in rest else []
        args = [p.define(m.group(1), parse_type(iv_ty or "index"))]
        if inits:
            for item, ty in zip(split_top(inits.group(1)), result_types):
                name, _, init = item.partition("=")
                op.operands.append(p.value(init.strip()))
                args.append(p.define(name.strip(), ty))
        op.extra["result_types"] = result_types
        return [args]
    if op.name == "scf.while":
        m = re.match(r"\s*\((.*?)\)\s*:\s*(.*)$", text)
        args = []
        if m:
            before_types = parse_types(split_top(m.group(2), "->")[0])
            for item, ty in zip(split_top(m.group(1)), before_types):
                name, _, init = item.partition("=")
                op.operands.append(p.value(init.strip()))
                args.append(p.define(name.strip(), ty))
            op.extra["result_types"] = parse_types(_arrow(m.group(2)))
        return [args, []]
    if op.name == "scf.if":
        head = text.split("->")[0]
        op.operands = [p.value(_SSA.findall(head)[0])]
        op.extra["result_types"] = parse_types(_arrow(text)) if "->" in text else []
        return []
    if op.extra["generic"]:  # generic form: operands are known before the regions
        close = _matching_paren(text)
        op.operands = [p.value(n) for n in _SSA.findall(text[:close])]
    return []


def _matching_paren(text: str) -> int:
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and c == ")":
            return i
    return len(text)


def after_regions(p, op, text: str, tail: str, results: list) -> None:
    """Operands, attributes, keywords and typed results of ``op``."""
    from .ttir import cut_attr_dicts

    text = _FASTMATH.sub("", text)
    text, op.attrs = cut_attr_dicts(text)
    for k, v in list(op.attrs.items()):
        if isinstance(v, str) and v.startswith("$S"):
            op.attrs[k] = op.strings[int(v[2:])]
    if op.name in ("scf.for", "scf.while", "scf.if"):
        types = op.extra["result_types"]
    elif op.extra["generic"]:  # generic: ``(%a, %b) : (types) -> (types)`` with the sig in the tail
        sig = tail.lstrip(":").strip() if tail else _split_sig(text)[1]
        types = parse_types(_arrow(sig)) if _arrow(sig) else []
    else:
        head, sig = _split_sig(text)
        for key, val in _KEYVAL.findall(head):  # ``inputPrecision = tf32``, ``evictionPolicy = evict_last``
            op.attrs.setdefault(key, parse_attr_value(val))
        head = _KEYVAL.sub("", head)
        first = head.find("%")
        words = head if first < 0 else head[:first]
        op.words = [w.strip() for w in words.split(",") if re.fullmatch(r"\s*[a-z_]\w*\s*", w)]
        op.operands = [p.value(n) for n in _SSA.findall(head)]
        op.extra["sig"] = sig
        if op.name == "arith.constant":
            op.extra["literal"] = head.strip()
        types = _result_types(op, head, sig) if results else []
    if len(types) != len(results):
        raise Unsupported(f"cannot type the results of {op.name}: {op.text[:80]}")
    op.results = [p.define(n, t) for n, t in zip(results, types)]


def _result_types(op, head: str, sig: str) -> list[Type]:
    name = op.name
    if name == "arith.constant" and not sig:
        return [Type("i1")]  # ``arith.constant true``
    if name in ("tt.get_program_id", "tt.get_num_programs"):
        return [Type("i32")]
    if name in ("arith.cmpi", "arith.cmpf"):
        return [Type("i1", parse_types(sig)[-1].shape)]
    if name == "tt.addptr":  # ``%p, %off : ptr-type, offset-type``
        return [parse_types(sig)[0]]
    if name == "tt.load":
        ptr = parse_types(sig)[0]
        return [ptr.pointee.with_shape(ptr.shape)]
    if " to " in sig:
        return [parse_type(sig.split(" to ")[-1])]
    if _arrow(sig) is not None:
        return parse_types(_arrow(sig))
    return [parse_types(sig)[-1]]
