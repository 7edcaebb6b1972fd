//! Builtin ops: shape rules and costs (params and counted terms), and scalar functions.
use super::value::{OpRef, Tensor, Value};
use super::world::World;
use super::{Interp, Interrupt, R};
use crate::graph::OpKind;
use crate::program::Cost;
use nasc_grammar::ast::Span;
use nasc_grammar::diag::Diagnostic;
use std::rc::Rc;

/// Tensor ops (callable as op values, e.g. in an option list).
pub const TENSOR_OPS: [&str; 22] = [
    "conv", "dwconv", "bn", "relu", "relu6", "sigmoid", "swish", "silu", "hswish", "hsigmoid", "avgpool", "maxpool", "gap", "linear", "se", "dropout", "zero", "identity", "add",
    "concat", "sum", "mean",
];
/// Activation ops (`se`'s `act` and `gate` name one of them).
const ACTIVATIONS: [&str; 7] = ["relu", "relu6", "sigmoid", "swish", "silu", "hswish", "hsigmoid"];
/// Scalar functions.
pub const SCALAR_FNS: [&str; 10] = ["range", "len", "min", "max", "abs", "floor", "ceil", "round", "int", "make_divisible"];

pub fn is_builtin(name: &str) -> Option<&'static str> {
    TENSOR_OPS.iter().chain(SCALAR_FNS.iter()).find(|b| **b == name).copied()
}

/// Parameter names of a builtin, with defaults (None = required). Variadic ops return None.
/// A builtin parameter's default (a constant: signatures are static tables).
#[derive(Clone, Copy)]
enum ParamDefault {
    Required,
    Int(i64),
    Str(&'static str),
    Bool(bool),
}

impl ParamDefault {
    fn value(self) -> Option<Value> {
        match self {
            ParamDefault::Required => None,
            ParamDefault::Int(i) => Some(Value::Int(i)),
            ParamDefault::Str(s) => Some(Value::Str(static_str(s))),
            ParamDefault::Bool(b) => Some(Value::Bool(b)),
        }
    }
}

type Signature = &'static [(&'static str, ParamDefault)];

thread_local! {
    /// The string defaults of the signatures, allocated once (a conv call is not an allocation).
    static DEFAULT_STRS: std::cell::RefCell<Vec<(&'static str, Rc<str>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A shared copy of a signature's string default.
fn static_str(s: &'static str) -> Rc<str> {
    DEFAULT_STRS.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((_, r)) = c.iter().find(|(k, _)| *k == s) {
            return r.clone();
        }
        let r: Rc<str> = Rc::from(s);
        c.push((s, r.clone()));
        r
    })
}

fn signature(name: &str) -> Option<Signature> {
    use ParamDefault::*;
    Some(match name {
        "conv" => {
            &[("x", Required), ("out", Required), ("k", Required), ("stride", Int(1)), ("groups", Int(1)), ("dilation", Int(1)), ("padding", Str("auto")), ("bias", Bool(false))]
        }
        "dwconv" => &[("x", Required), ("k", Required), ("stride", Int(1)), ("dilation", Int(1)), ("padding", Str("auto")), ("bias", Bool(false))],
        "bn" | "relu" | "relu6" | "sigmoid" | "swish" | "silu" | "hswish" | "hsigmoid" | "gap" | "zero" | "identity" => &[("x", Required)],
        "avgpool" | "maxpool" => &[("x", Required), ("k", Required), ("stride", Int(1)), ("padding", Str("auto"))],
        "linear" => &[("x", Required), ("out", Required), ("bias", Bool(true))],
        "se" => &[("x", Required), ("mid", Required), ("act", Str("relu")), ("gate", Str("hsigmoid"))],
        "dropout" => &[("x", Required), ("p", Required)],
        "make_divisible" => &[("v", Required), ("divisor", Required), ("min", Bool(false))],
        "abs" | "floor" | "ceil" | "round" | "int" | "len" => &[("v", Required)],
        _ => return None,
    })
}

/// Evaluated call arguments: (keyword and its span, value, span).
pub(super) type Args = Vec<ArgValue>;
/// One evaluated call argument.
pub(super) type ArgValue = (Option<(String, Span)>, Value, Span);

/// Bind call arguments to a builtin's signature.
fn bind(name: &str, args: Args, span: Span) -> R<Vec<(Value, Span)>> {
    let Some(sig) = signature(name) else {
        return Ok(args.into_iter().map(|(_, v, s)| (v, s)).collect());
    };
    // (a signature has at most 8 parameters)
    let mut out: [Option<(Value, Span)>; 8] = Default::default();
    if sig.len() > out.len() {
        return Err(Interrupt::Error(Diagnostic::error("E0801", format!("`{name}` has too many parameters"), span, "in this call")));
    }
    let mut pos = 0;
    for (kw, v, s) in args {
        match kw {
            None => {
                if pos >= sig.len() {
                    return Err(Interrupt::Error(
                        Diagnostic::error("E0103", format!("too many arguments to `{name}`"), s, "unexpected argument").with_help(format!("`{name}` takes ({})", sig_str(sig))),
                    ));
                }
                out[pos] = Some((v, s));
                pos += 1;
            }
            Some((k, ks)) => match sig.iter().position(|(n, _)| *n == k) {
                Some(i) => out[i] = Some((v, s)),
                None => {
                    let mut d = Diagnostic::error("E0105", format!("`{name}` has no parameter `{k}`"), ks, "unknown keyword argument");
                    if let Some(m) = nasc_grammar::diag::did_you_mean(&k, sig.iter().map(|(n, _)| *n)) {
                        d = d.with_help(format!("did you mean `{m}`?"));
                    }
                    return Err(Interrupt::Error(d));
                }
            },
        }
    }
    let mut res = Vec::with_capacity(sig.len());
    for (i, slot) in out.into_iter().take(sig.len()).enumerate() {
        match slot {
            Some(v) => res.push(v),
            None => match sig[i].1.value() {
                Some(d) => res.push((d, span)),
                None => {
                    return Err(Interrupt::Error(
                        Diagnostic::error("E0103", format!("missing argument `{}` to `{name}`", sig[i].0), span, "in this call")
                            .with_help(format!("`{name}` takes ({})", sig_str(sig))),
                    ))
                }
            },
        }
    }
    Ok(res)
}

fn sig_str(sig: Signature) -> String {
    sig.iter().map(|(n, d)| if matches!(d, ParamDefault::Required) { n.to_string() } else { format!("{n}=…") }).collect::<Vec<_>>().join(", ")
}

fn type_err(what: &str, v: &Value, span: Span) -> Interrupt {
    Interrupt::Error(Diagnostic::error("E0104", format!("expected {what}, found {}", v.type_name()), span, format!("this is {}", v.a_type_name())))
}

fn tensor(v: &(Value, Span)) -> R<Tensor> {
    match &v.0 {
        Value::Tensor(t) => Ok(t.clone()),
        Value::Zero => Err(Interrupt::Error(Diagnostic::error("E0104", "expected a tensor, found the empty sum", v.1, "this sum or mean has no elements"))),
        other => Err(type_err("a tensor", other, v.1)),
    }
}

fn int(v: &(Value, Span)) -> R<i64> {
    match &v.0 {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(*f as i64),
        other => Err(type_err("an int", other, v.1)),
    }
}

fn pos_int(v: &(Value, Span), what: &str) -> R<i64> {
    let i = int(v)?;
    if i <= 0 {
        return Err(Interrupt::Error(Diagnostic::error("E0202", format!("{what} must be positive, found {i}"), v.1, "not positive")));
    }
    Ok(i)
}

/// `k` as an int or `[kh, kw]`.
fn pair(v: &(Value, Span), what: &str) -> R<(i64, i64)> {
    match &v.0 {
        Value::List(l) if l.len() == 2 => {
            let a = pos_int(&(l[0].clone(), v.1), what)?;
            let b = pos_int(&(l[1].clone(), v.1), what)?;
            Ok((a, b))
        }
        _ => {
            let k = pos_int(v, what)?;
            Ok((k, k))
        }
    }
}

/// An activation named by a string (`"swish"`) or an op value (`swish`); `silu` is `swish`.
fn activation(v: &(Value, Span), what: &str) -> R<&'static str> {
    let name: &str = match &v.0 {
        Value::Str(s) => s,
        Value::Op(OpRef::Builtin(b)) => b,
        other => return Err(type_err(&format!("{what} (an activation name)"), other, v.1)),
    };
    match ACTIVATIONS.iter().find(|a| **a == name) {
        Some(&"silu") => Ok("swish"),
        Some(a) => Ok(a),
        None => {
            let mut d = Diagnostic::error("E0104", format!("unknown activation `{name}` for {what}"), v.1, format!("expected one of {}", ACTIVATIONS.join(", ")));
            if let Some(m) = nasc_grammar::diag::did_you_mean(name, ACTIVATIONS.iter().copied()) {
                d = d.with_help(format!("did you mean `{m}`?"));
            }
            Err(Interrupt::Error(d))
        }
    }
}

/// A probability in [0, 1) as parts per million (exact for up to 6 decimals).
fn probability(v: &(Value, Span)) -> R<u32> {
    let p = match &v.0 {
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        other => return Err(type_err("a probability", other, v.1)),
    };
    if !(0.0..1.0).contains(&p) {
        return Err(Interrupt::Error(Diagnostic::error("E0202", format!("a dropout probability must be in [0, 1), found {p}"), v.1, "out of range")));
    }
    Ok((p * 1e6).round() as u32)
}

fn bool_arg(v: &(Value, Span)) -> R<bool> {
    match &v.0 {
        Value::Bool(b) => Ok(*b),
        other => Err(type_err("a bool", other, v.1)),
    }
}

enum Pad {
    Same,
    Explicit(i64, i64),
}

fn padding(v: &(Value, Span), k: (i64, i64), dil: i64) -> R<Pad> {
    match &v.0 {
        Value::Str(s) if &**s == "auto" => Ok(Pad::Explicit(dil * (k.0 - 1) / 2, dil * (k.1 - 1) / 2)),
        Value::Str(s) if &**s == "same" => Ok(Pad::Same),
        Value::Str(s) => Err(Interrupt::Error(
            Diagnostic::error("E0104", format!("unknown padding `{s}`"), v.1, "expected an int, [ph, pw], \"auto\" or \"same\"")
                .with_help("use `padding = \"same\"` for TensorFlow-style padding"),
        )),
        Value::List(l) if l.len() == 2 => Ok(Pad::Explicit(int(&(l[0].clone(), v.1))?, int(&(l[1].clone(), v.1))?)),
        _ => {
            let p = int(v)?;
            if p < 0 {
                return Err(Interrupt::Error(Diagnostic::error("E0202", "padding must not be negative", v.1, "negative")));
            }
            Ok(Pad::Explicit(p, p))
        }
    }
}

fn out_dim(n: i64, k: i64, s: i64, d: i64, pad: &Pad, p: i64, span: Span) -> R<i64> {
    let o = match pad {
        Pad::Same => (n + s - 1) / s,
        Pad::Explicit(..) => (n + 2 * p - d * (k - 1) - 1).div_euclid(s) + 1,
    };
    if o < 1 {
        return Err(Interrupt::Error(Diagnostic::error(
            "E0202",
            format!("the output of this op would be empty (input side {n}, kernel {k}, stride {s})"),
            span,
            "output side < 1",
        )));
    }
    Ok(o)
}

fn mul(vals: &[i64], span: Span) -> R<i64> {
    let mut acc: i64 = 1;
    for v in vals {
        acc = acc.checked_mul(*v).ok_or_else(|| Interrupt::Error(Diagnostic::error("E0801", "integer overflow while counting cost", span, "in this op")))?;
    }
    Ok(acc)
}

impl<'a> Interp<'a> {
    /// Call a builtin by name with already evaluated arguments.
    pub(super) fn call_builtin(&mut self, w: &mut World, name: &'static str, args: Args, span: Span) -> R<Value> {
        match name {
            "add" | "concat" | "sum" | "mean" => return self.join_op(w, name, args, span),
            "range" => return range(args, span),
            "min" | "max" => return minmax(name, args, span),
            _ => {}
        }
        let a = bind(name, args, span)?;
        match name {
            "conv" | "dwconv" => {
                let x = tensor(&a[0])?;
                let (out, k, rest) = if name == "conv" {
                    (pos_int(&a[1], "the number of output channels")?, pair(&a[2], "the kernel size")?, &a[3..])
                } else {
                    (x.c, pair(&a[1], "the kernel size")?, &a[2..])
                };
                let stride = pos_int(&rest[0], "the stride")?;
                let (groups, rest) = if name == "conv" { (pos_int(&rest[1], "groups")?, &rest[2..]) } else { (x.c, &rest[1..]) };
                let dil = pos_int(&rest[0], "the dilation")?;
                let pad = padding(&rest[1], k, dil)?;
                let bias = bool_arg(&rest[2])?;
                if x.c % groups != 0 || out % groups != 0 {
                    return Err(Interrupt::Error(Diagnostic::error(
                        "E0202",
                        format!("groups ({groups}) must divide the input ({}) and output ({out}) channels", x.c),
                        span,
                        "invalid grouped convolution",
                    )));
                }
                let (ph, pw) = match pad {
                    Pad::Explicit(a, b) => (a, b),
                    Pad::Same => (0, 0),
                };
                let ho = out_dim(x.h, k.0, stride, dil, &pad, ph, span)?;
                let wo = out_dim(x.w, k.1, stride, dil, &pad, pw, span)?;
                let weights = mul(&[out, x.c / groups, k.0, k.1], span)?;
                let mut cost = Cost { params: weights + if bias { out } else { 0 }, ..Cost::default() };
                cost.terms[0] = mul(&[weights, ho, wo], span)?;
                if bias {
                    cost.terms[1] = mul(&[out, ho, wo], span)?;
                }
                let kind = OpKind::Conv { out, k, stride, groups, dilation: dil, pad: (ph, pw), same: matches!(pad, Pad::Same), bias };
                self.tensor_op(w, name, kind, span, &[&x], cost, (out, ho, wo))
            }
            "bn" => {
                let x = tensor(&a[0])?;
                let mut cost = Cost { params: 2 * x.c, ..Cost::default() };
                cost.terms[4] = mul(&[x.c, x.h, x.w], span)?;
                self.tensor_op(w, "bn", OpKind::Bn, span, &[&x], cost, (x.c, x.h, x.w))
            }
            "relu" | "relu6" | "sigmoid" | "swish" | "silu" | "hswish" | "hsigmoid" => {
                let x = tensor(&a[0])?;
                let mut cost = Cost::default();
                cost.terms[5] = mul(&[x.c, x.h, x.w], span)?;
                // `silu` is PyTorch's name of swish, x * sigmoid(x): one op
                let act = if name == "silu" { "swish" } else { name };
                self.tensor_op(w, act, OpKind::Act(act), span, &[&x], cost, (x.c, x.h, x.w))
            }
            "avgpool" | "maxpool" => {
                let x = tensor(&a[0])?;
                let k = pair(&a[1], "the kernel size")?;
                let stride = pos_int(&a[2], "the stride")?;
                let pad = padding(&a[3], k, 1)?;
                let (ph, pw) = match pad {
                    Pad::Explicit(a, b) => (a, b),
                    Pad::Same => (0, 0),
                };
                let ho = out_dim(x.h, k.0, stride, 1, &pad, ph, span)?;
                let wo = out_dim(x.w, k.1, stride, 1, &pad, pw, span)?;
                let mut cost = Cost::default();
                cost.terms[6] = mul(&[x.c, ho, wo, k.0, k.1], span)?;
                let kind = OpKind::Pool { max: name == "maxpool", k, stride, pad: (ph, pw), same: matches!(pad, Pad::Same) };
                self.tensor_op(w, name, kind, span, &[&x], cost, (x.c, ho, wo))
            }
            "gap" => {
                let x = tensor(&a[0])?;
                let mut cost = Cost::default();
                cost.terms[6] = mul(&[x.c, x.h, x.w], span)?;
                self.tensor_op(w, "gap", OpKind::Gap, span, &[&x], cost, (x.c, 1, 1))
            }
            "linear" => {
                let x = tensor(&a[0])?;
                let out = pos_int(&a[1], "the number of outputs")?;
                let bias = bool_arg(&a[2])?;
                let fin = mul(&[x.c, x.h, x.w], span)?;
                let weights = mul(&[fin, out], span)?;
                let mut cost = Cost { params: weights + if bias { out } else { 0 }, ..Cost::default() };
                cost.terms[2] = weights;
                if bias {
                    cost.terms[3] = out;
                }
                self.tensor_op(w, "linear", OpKind::Linear { out, bias }, span, &[&x], cost, (out, 1, 1))
            }
            "se" => {
                let x = tensor(&a[0])?;
                let mid = pos_int(&a[1], "the squeeze width")?;
                let act = activation(&a[2], "`se`'s `act`")?;
                let gate = activation(&a[3], "`se`'s `gate`")?;
                let mut cost = Cost { params: mul(&[2, x.c, mid], span)? + mid + x.c, ..Cost::default() };
                cost.terms[0] = mul(&[2, x.c, mid], span)?;
                cost.terms[1] = mid + x.c;
                self.tensor_op(w, "se", OpKind::Se { mid, act, gate }, span, &[&x], cost, (x.c, x.h, x.w))
            }
            "dropout" => {
                let x = tensor(&a[0])?;
                let ppm = probability(&a[1])?;
                self.tensor_op(w, "dropout", OpKind::Dropout { ppm }, span, &[&x], Cost::default(), (x.c, x.h, x.w))
            }
            "zero" | "identity" => {
                let x = tensor(&a[0])?;
                let kind = if name == "zero" { OpKind::Zero } else { OpKind::Identity };
                self.tensor_op(w, name, kind, span, &[&x], Cost::default(), (x.c, x.h, x.w))
            }
            "len" => match &a[0].0 {
                Value::List(l) => Ok(Value::Int(l.len() as i64)),
                Value::Range(lo, hi) => Ok(Value::Int((hi - lo).max(0))),
                other => Err(type_err("a list", other, a[0].1)),
            },
            "abs" => match &a[0].0 {
                Value::Int(i) => Ok(Value::Int(i.checked_abs().unwrap_or(i64::MAX))),
                Value::Float(f) => Ok(Value::Float(f.abs())),
                other => Err(type_err("a number", other, a[0].1)),
            },
            "floor" | "ceil" | "round" | "int" => {
                let f = a[0].0.as_f64().ok_or_else(|| type_err("a number", &a[0].0, a[0].1))?;
                let r = match name {
                    "floor" => f.floor(),
                    "ceil" => f.ceil(),
                    "round" => f.round(),
                    _ => f.trunc(),
                };
                if !r.is_finite() || r.abs() > 9e15 {
                    return Err(Interrupt::Error(Diagnostic::error("E0801", "number out of integer range", a[0].1, "here")));
                }
                Ok(Value::Int(r as i64))
            }
            "make_divisible" => {
                let v = a[0].0.as_f64().ok_or_else(|| type_err("a number", &a[0].0, a[0].1))?;
                let d = pos_int(&a[1], "the divisor")?;
                let min = match &a[2].0 {
                    Value::Int(m) => *m,
                    _ => d,
                };
                if !v.is_finite() || v.abs() > 9e15 {
                    return Err(Interrupt::Error(Diagnostic::error("E0801", "number out of integer range", a[0].1, "here")));
                }
                let df = d as f64;
                let mut nv = (((v + df / 2.0) / df).floor() as i64 * d).max(min);
                if (nv as f64) < 0.9 * v {
                    nv += d;
                }
                Ok(Value::Int(nv))
            }
            _ => Err(Interrupt::Error(Diagnostic::error("E0106", format!("`{name}` cannot be called here"), span, "here"))),
        }
    }

    /// add / concat / sum / mean over tensors (positional tensors or one list).
    fn join_op(&mut self, w: &mut World, name: &'static str, args: Args, span: Span) -> R<Value> {
        let mut items: Vec<(Value, Span)> = Vec::new();
        let mut guarded = false;
        for (kw, v, s) in args {
            if let Some((k, ks)) = kw {
                return Err(Interrupt::Error(Diagnostic::error("E0105", format!("`{name}` has no parameter `{k}`"), ks, "unknown keyword argument")));
            }
            match v {
                Value::List(l) => items.extend(l.iter().cloned().map(|x| (x, s))),
                Value::CondList(l) => {
                    guarded |= l.iter().any(|(g, _)| g.is_some());
                    items.extend(l.iter().map(|(_, x)| (x.clone(), s)))
                }
                other => items.push((other, s)),
            }
        }
        let tensors: Vec<Tensor> = items.iter().filter(|(v, _)| !matches!(v, Value::Zero)).map(tensor).collect::<R<Vec<_>>>()?;
        if tensors.is_empty() {
            return Ok(Value::Zero);
        }
        let first = &tensors[0];
        if name == "concat" {
            if guarded {
                return Err(Interrupt::Error(
                    Diagnostic::error("E0104", "`concat` of a subset's members is not supported (its width would depend on the subset)", span, "here")
                        .with_help("use `sum` or `mean` to join the branches of a subset"),
                ));
            }
            let mut c = 0i64;
            for t in &tensors {
                if (t.h, t.w) != (first.h, first.w) {
                    return Err(shape_mismatch(span, first, t, "concat needs equal spatial sizes"));
                }
                c += t.c;
            }
            let refs: Vec<&Tensor> = tensors.iter().collect();
            return self.tensor_op(w, "concat", OpKind::Concat, span, &refs, Cost::default(), (c, first.h, first.w));
        }
        for t in &tensors[1..] {
            if (t.c, t.h, t.w) != (first.c, first.h, first.w) {
                return Err(shape_mismatch(span, first, t, "element-wise ops need equal shapes"));
            }
        }
        let mut cost = Cost::default();
        if !guarded {
            cost.terms[7] = mul(&[first.c, first.h, first.w, tensors.len() as i64 - 1], span)?;
        }
        if tensors.len() == 1 && name != "mean" {
            return Ok(Value::Tensor(first.clone()));
        }
        let refs: Vec<&Tensor> = tensors.iter().collect();
        let kind = if name == "mean" { OpKind::Mean } else { OpKind::Add };
        self.tensor_op(w, name, kind, span, &refs, cost, (first.c, first.h, first.w))
    }
}

impl<'a> Interp<'a> {
    /// `a * b` on tensors: one shape, or one side `[c, 1, 1]` broadcast over the other's pixels.
    /// A zero (empty sum) on either side gives zero. Multiplies are not counted (as `se`'s scale).
    pub(super) fn mul_op(&mut self, w: &mut World, a: &Value, b: &Value, spans: (Span, Span), span: Span) -> R<Value> {
        if matches!(a, Value::Zero) || matches!(b, Value::Zero) {
            return Ok(Value::Zero);
        }
        let (x, y) = (tensor(&(a.clone(), spans.0))?, tensor(&(b.clone(), spans.1))?);
        let out = if (x.c, x.h, x.w) == (y.c, y.h, y.w) || (x.c == y.c && (y.h, y.w) == (1, 1)) {
            (x.c, x.h, x.w)
        } else if x.c == y.c && (x.h, x.w) == (1, 1) {
            (y.c, y.h, y.w)
        } else {
            return Err(shape_mismatch(span, &x, &y, "`*` needs equal shapes, or a [c, 1, 1] side with the other's channels"));
        };
        self.tensor_op(w, "mul", OpKind::Mul, span, &[&x, &y], Cost::default(), out)
    }
}

fn shape_mismatch(span: Span, a: &Tensor, b: &Tensor, why: &str) -> Interrupt {
    Interrupt::Error(
        Diagnostic::error("E0201", format!("shape mismatch: [{}, {}, {}] and [{}, {}, {}]", a.c, a.h, a.w, b.c, b.h, b.w), span, why.to_string())
            .with_help("make the channel counts and spatial sizes agree (e.g. a 1x1 conv or a stride-2 op on one side)"),
    )
}

fn range(args: Args, span: Span) -> R<Value> {
    let ints: Vec<i64> = args.iter().map(|(_, v, s)| int(&(v.clone(), *s))).collect::<R<_>>()?;
    match ints.as_slice() {
        [n] => Ok(Value::Range(0, *n)),
        [a, b] => Ok(Value::Range(*a, *b)),
        _ => Err(Interrupt::Error(Diagnostic::error("E0103", "`range` takes 1 or 2 arguments", span, "here"))),
    }
}

fn minmax(name: &str, args: Args, span: Span) -> R<Value> {
    let mut vals = Vec::new();
    for (_, v, s) in args {
        match v {
            Value::List(l) => vals.extend(l.iter().cloned().map(|x| (x, s))),
            Value::Range(a, b) => vals.extend((a..b).map(|i| (Value::Int(i), s))),
            other => vals.push((other, s)),
        }
    }
    let mut best: Option<Value> = None;
    for (v, s) in vals {
        let f = v.as_f64().ok_or_else(|| type_err("a number", &v, s))?;
        let replace = match &best {
            None => true,
            Some(b) => {
                let bf = b.as_f64().unwrap_or(f);
                if name == "min" {
                    f < bf
                } else {
                    f > bf
                }
            }
        };
        if replace {
            best = Some(v);
        }
    }
    best.ok_or_else(|| Interrupt::Error(Diagnostic::error("E0103", format!("`{name}` of nothing"), span, "no values")))
}

pub fn builtin_op(name: &str) -> Option<OpRef> {
    is_builtin(name).map(OpRef::Builtin)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bind` binds into 8 slots (its error for a longer signature is then unreachable).
    #[test]
    fn every_signature_fits_the_binding_slots() {
        for name in TENSOR_OPS.iter().chain(SCALAR_FNS.iter()) {
            assert!(signature(name).map_or(0, |s| s.len()) <= 8, "`{name}`");
        }
    }
}
