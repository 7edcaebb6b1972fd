//! Code generation of the metrics and constraints of a `Plan` (safe: builds cranelift IR only).
use super::super::plan::{PExpr, PMetric, Plan, PosMap, ABSENT, CHUNK_MASK};
use super::sample::RowLoop;
use super::Cg;
use crate::error::JitError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use nasc_grammar::ast::BinOp;

/// Accumulators of a metric whose sums are exact (`PMetric::Additive::exact`).
const ACC: usize = 4;

impl Cg<'_, '_> {
    fn slot(&mut self, d: usize) -> Value {
        if let Some(v) = self.slots[d] {
            return v;
        }
        let v = self.b.ins().load(types::I64, MemFlagsData::trusted(), self.row, (d * 8) as i32);
        self.slots[d] = Some(v);
        v
    }

    fn position(&mut self, d: usize) -> Value {
        if let Some(v) = self.positions[d] {
            return v;
        }
        let v = self.position_uncached(d);
        self.positions[d] = Some(v);
        v
    }

    /// A position of `card` or more (an invalid row) reads as 0, as in `interp::position`.
    fn clamp(&mut self, p: Value, card: u32) -> Value {
        let inside = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, p, card as i64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().select(inside, p, zero)
    }

    fn position_uncached(&mut self, d: usize) -> Value {
        let s = self.slot(d);
        let is_absent = self.b.ins().icmp_imm_s(IntCC::Equal, s, ABSENT as i64);
        match &self.plan.pos[d] {
            &PosMap::Choice { absent, card } => {
                if !self.conditional[d] {
                    return self.clamp(s, card);
                }
                let a = self.b.ins().iconst(types::I64, absent as i64);
                let p = self.b.ins().select(is_absent, a, s);
                self.clamp(p, card)
            }
            PosMap::Subset { absent, card, dense } => {
                let (absent, card, n_dense) = (*absent, *card, dense.len());
                // an absent slot or a mask outside the map reads entry 0 of the map; an absent
                // slot then takes `absent`, a mask outside the map position 0 (via clamp)
                let outside = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, s, n_dense as i64);
                let zero = self.b.ins().iconst(types::I64, 0);
                let safe = self.b.ins().select(outside, zero, s);
                let off = self.b.ins().ishl_imm_s(safe, 2);
                let base = self.b.ins().iconst(types::I64, self.dense_ptrs[d]);
                let addr = self.b.ins().iadd(base, off);
                let p32 = self.b.ins().load(types::I32, MemFlagsData::trusted(), addr, 0);
                let p = self.b.ins().uextend(types::I64, p32);
                let big = self.b.ins().iconst(types::I64, card as i64);
                let p = self.b.ins().select(outside, big, p);
                let a = self.b.ins().iconst(types::I64, absent as i64);
                let p = self.b.ins().select(is_absent, a, p);
                self.clamp(p, card)
            }
            PosMap::None => self.b.ins().iconst(types::I64, 0),
        }
    }

    /// The entry index of table `ti` in this row.
    fn table_index(&mut self, ti: usize) -> Value {
        let t = &self.plan.tables[ti];
        let mut idx = self.b.ins().iconst(types::I64, 0);
        for &(d, stride) in &t.scope {
            let p = self.position(d);
            let ps = if stride == 1 { p } else { self.b.ins().imul_imm_s(p, stride as i64) };
            idx = self.b.ins().iadd(idx, ps);
        }
        idx
    }

    /// Two metrics of a `Pair` as one f64x2 sum: per table pair one index, one 16-byte load of
    /// the interleaved entries, one vector add (ACC accumulators, a balanced tree at the end).
    /// Returns (metric a, metric b).
    fn pair(&mut self, p: &Pair) -> (Value, Value) {
        let ca = self.b.ins().f64const(p.constants.0);
        let cb = self.b.ins().f64const(p.constants.1);
        let v = self.b.ins().scalar_to_vector(types::F64X2, ca);
        let mut acc: Vec<Value> = vec![self.b.ins().insertlane(v, cb, 1)];
        // readonly, never trapping, possibly unaligned (no `aligned` flag)
        let flags = MemFlagsData::new().with_notrap().with_readonly();
        for (k, &(ta, off)) in p.tables.iter().enumerate() {
            let idx = self.table_index(ta);
            let boff = self.b.ins().ishl_imm_s(idx, 4);
            let addr = self.b.ins().iadd(self.tables, boff);
            let x = self.b.ins().load(types::F64X2, flags, addr, off);
            if acc.len() < ACC {
                acc.push(x);
            } else {
                acc[k % ACC] = self.b.ins().fadd(acc[k % ACC], x);
            }
        }
        while acc.len() > 1 {
            acc = acc.chunks(2).map(|q| if q.len() == 2 { self.b.ins().fadd(q[0], q[1]) } else { q[0] }).collect();
        }
        let a = self.b.ins().extractlane(acc[0], 0);
        let b = self.b.ins().extractlane(acc[0], 1);
        (a, b)
    }

    /// Entry `idx` of table `ti`.
    fn load_f64(&mut self, ti: usize, idx: Value) -> Value {
        let off = self.b.ins().ishl_imm_s(idx, 3);
        let addr = self.b.ins().iadd(self.tables, off);
        self.b.ins().load(types::F64, MemFlagsData::trusted(), addr, self.table_offs[ti])
    }

    pub(super) fn metric(&mut self, m: &PMetric, vals: &[Value]) -> Value {
        match m {
            PMetric::Additive { constant, tables, members, chunks, exact } => {
                // the added values in the interpreter's order: constant, tables, chunks. With
                // exact integer sums they go round-robin into ACC accumulators (short
                // dependency chains, each value added as soon as it is loaded), same bits.
                let lanes = if *exact { ACC } else { 1 };
                let mut acc: Vec<Value> = vec![self.b.ins().f64const(*constant)];
                let mut k = 0usize;
                let mut add = |cg: &mut Self, x: Value| {
                    if acc.len() < lanes {
                        acc.push(x);
                    } else {
                        acc[k % lanes] = cg.b.ins().fadd(acc[k % lanes], x);
                        k += 1;
                    }
                };
                for &ti in tables {
                    let idx = self.table_index(ti);
                    let x = self.load_f64(ti, idx);
                    add(self, x);
                }
                for &(d, shift, ti) in chunks {
                    // an absent subset reads entry 0 (no members: -0.0, which adds nothing)
                    let s = self.slot(d);
                    let is_absent = self.b.ins().icmp_imm_s(IntCC::Equal, s, ABSENT as i64);
                    let zero = self.b.ins().iconst(types::I64, 0);
                    let m = self.b.ins().select(is_absent, zero, s);
                    let sh = self.b.ins().ushr_imm_s(m, shift as i64);
                    let byte = self.b.ins().band_imm_s(sh, CHUNK_MASK as i64);
                    let x = self.load_f64(ti, byte);
                    add(self, x);
                }
                while acc.len() > 1 {
                    acc = acc.chunks(2).map(|p| if p.len() == 2 { self.b.ins().fadd(p[0], p[1]) } else { p[0] }).collect();
                }
                let mut v = acc[0];
                // per-member terms (only where the sums are not exact: then chunks are empty)
                for &(d, j, c) in members {
                    let s = self.slot(d);
                    let present = self.b.ins().icmp_imm_s(IntCC::NotEqual, s, ABSENT as i64);
                    let sh = self.b.ins().ushr_imm_s(s, j as i64);
                    let bit = self.b.ins().band_imm_s(sh, 1);
                    let on = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 1);
                    let both = self.b.ins().band(present, on);
                    let cv = self.b.ins().f64const(c);
                    let added = self.b.ins().fadd(v, cv);
                    v = self.b.ins().select(both, added, v);
                }
                v
            }
            PMetric::Expr(e) => self.expr(e, vals),
            PMetric::Nan => self.b.ins().f64const(f64::NAN),
        }
    }

    fn bool_f(&mut self, c: Value) -> Value {
        let one = self.b.ins().f64const(1.0);
        let zero = self.b.ins().f64const(0.0);
        self.b.ins().select(c, one, zero)
    }

    fn call(&mut self, h: usize, args: &[Value]) -> Value {
        let inst = self.b.ins().call(self.helpers[h], args);
        self.b.inst_results(inst)[0]
    }

    fn nonzero(&mut self, v: Value) -> Value {
        let z = self.b.ins().f64const(0.0);
        self.b.ins().fcmp(FloatCC::NotEqual, v, z)
    }

    pub(super) fn expr(&mut self, e: &PExpr, vals: &[Value]) -> Value {
        match e {
            PExpr::Const(c) => self.b.ins().f64const(*c),
            PExpr::Metric(i) => vals[*i],
            PExpr::Option { dec, values } => {
                // option values as a select chain (domains are small); absent or out of range: NaN
                let s = self.slot(*dec);
                let mut v = self.b.ins().f64const(f64::NAN);
                for (k, x) in values.iter().enumerate() {
                    let is_k = self.b.ins().icmp_imm_s(IntCC::Equal, s, k as i64);
                    let xv = self.b.ins().f64const(*x);
                    v = self.b.ins().select(is_k, xv, v);
                }
                v
            }
            PExpr::Neg(a) => {
                let a = self.expr(a, vals);
                self.b.ins().fneg(a)
            }
            PExpr::Not(a) => {
                let a = self.expr(a, vals);
                let z = self.b.ins().f64const(0.0);
                let c = self.b.ins().fcmp(FloatCC::Equal, a, z);
                self.bool_f(c)
            }
            PExpr::Bin(op, a, b) => {
                let (a, b) = (self.expr(a, vals), self.expr(b, vals));
                let cmp = |s: &mut Self, cc: FloatCC| {
                    let c = s.b.ins().fcmp(cc, a, b);
                    s.bool_f(c)
                };
                match op {
                    BinOp::Add => self.b.ins().fadd(a, b),
                    BinOp::Sub => self.b.ins().fsub(a, b),
                    BinOp::Mul => self.b.ins().fmul(a, b),
                    BinOp::Div => self.b.ins().fdiv(a, b),
                    BinOp::IntDiv => {
                        let q = self.b.ins().fdiv(a, b);
                        self.b.ins().floor(q)
                    }
                    BinOp::Mod => self.call(4, &[a, b]),
                    BinOp::Pow => self.call(3, &[a, b]),
                    BinOp::Eq => cmp(self, FloatCC::Equal),
                    BinOp::Ne => cmp(self, FloatCC::NotEqual),
                    BinOp::Lt => cmp(self, FloatCC::LessThan),
                    BinOp::Le => cmp(self, FloatCC::LessThanOrEqual),
                    BinOp::Gt => cmp(self, FloatCC::GreaterThan),
                    BinOp::Ge => cmp(self, FloatCC::GreaterThanOrEqual),
                    BinOp::And | BinOp::Or => {
                        let (x, y) = (self.nonzero(a), self.nonzero(b));
                        let c = if *op == BinOp::And { self.b.ins().band(x, y) } else { self.b.ins().bor(x, y) };
                        self.bool_f(c)
                    }
                    BinOp::In => self.b.ins().f64const(f64::NAN),
                }
            }
            PExpr::If(c, a, b) => {
                let c = self.expr(c, vals);
                let c = self.nonzero(c);
                let (a, b) = (self.expr(a, vals), self.expr(b, vals));
                self.b.ins().select(c, a, b)
            }
            PExpr::Call(f, args) => {
                let first = self.expr(&args[0], vals);
                match *f {
                    "min" | "max" => {
                        let h = if *f == "min" { 0 } else { 1 };
                        let mut acc = first;
                        for x in &args[1..] {
                            let xv = self.expr(x, vals);
                            acc = self.call(h, &[acc, xv]);
                        }
                        acc
                    }
                    "abs" => self.b.ins().fabs(first),
                    "floor" => self.b.ins().floor(first),
                    "ceil" => self.b.ins().ceil(first),
                    _ => self.call(2, &[first]),
                }
            }
            PExpr::InRange { v, lo, hi, inclusive } => {
                let (v, a, b) = (self.expr(v, vals), self.expr(lo, vals), self.expr(hi, vals));
                let ge = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, v, a);
                let lt = self.b.ins().fcmp(FloatCC::LessThan, v, b);
                let upper = if *inclusive {
                    let le = self.b.ins().fcmp(FloatCC::LessThanOrEqual, v, b);
                    self.b.ins().bor(lt, le)
                } else {
                    lt
                };
                let c = self.b.ins().band(ge, upper);
                self.bool_f(c)
            }
        }
    }
}

/// Two additive metrics summed together as f64x2 (see `Cg::pair`): both have exact integer
/// sums (so the order of the additions does not matter), no per-member terms or chunks, and
/// tables of the same scopes (the cost tables of params and flops usually are).
pub(super) struct Pair {
    pub metrics: (usize, usize),
    pub constants: (f64, f64),
    /// (table of metric a, byte offset of its interleaved pair table in the buffer)
    pub tables: Vec<(usize, i32)>,
}

/// (buffer, byte offset of each plan table, pairs): see `layout`.
pub(super) type Layout = (Vec<f64>, Vec<i32>, Vec<Pair>);

/// The cost tables laid end to end for the eval code, then the interleaved tables of the
/// pairs (each entry a, b: 16 bytes, at an even f64 offset): (buffer, byte offset of each plan
/// table, pairs). Metrics pair greedily in order.
pub(super) fn layout(plan: &Plan) -> Result<Layout, JitError> {
    let off = |at: usize| i32::try_from(at * 8).map_err(|_| JitError::TablesTooLarge);
    let mut buf: Vec<f64> = Vec::new();
    let mut offs = Vec::with_capacity(plan.tables.len());
    for t in &plan.tables {
        offs.push(off(buf.len())?);
        buf.extend_from_slice(&t.data);
    }
    let pairable = |m: &PMetric| match m {
        PMetric::Additive { constant, tables, members, chunks, exact: true } if members.is_empty() && chunks.is_empty() && !tables.is_empty() => Some((*constant, tables.clone())),
        _ => None,
    };
    let mut used = vec![false; plan.metrics.len()];
    let mut pairs = Vec::new();
    for i in 0..plan.metrics.len() {
        let Some((ca, ta)) = pairable(&plan.metrics[i]).filter(|_| !used[i]) else { continue };
        for j in i + 1..plan.metrics.len() {
            let Some((cb, mut tb)) = pairable(&plan.metrics[j]).filter(|_| !used[j]) else { continue };
            // each table of a with a table of b of the same scope (and size)
            let mut matched = Vec::new();
            for &x in &ta {
                let same = |y: &usize| plan.tables[*y].scope == plan.tables[x].scope && plan.tables[*y].data.len() == plan.tables[x].data.len();
                let Some(k) = tb.iter().position(same) else { break };
                matched.push((x, tb.swap_remove(k)));
            }
            if matched.len() != ta.len() || !tb.is_empty() {
                continue;
            }
            let mut tables = Vec::new();
            for (x, y) in matched {
                if buf.len() % 2 == 1 {
                    buf.push(0.0);
                }
                tables.push((x, off(buf.len())?));
                buf.extend(plan.tables[x].data.iter().zip(&plan.tables[y].data).flat_map(|(a, b)| [*a, *b]));
            }
            used[i] = true;
            used[j] = true;
            pairs.push(Pair { metrics: (i, j), constants: (ca, cb), tables });
            break;
        }
    }
    off(buf.len())?;
    Ok((buf, offs, pairs))
}

/// Emit the body of `nasc_eval_batch(rows, n, out, feas, tables)`: per row, every metric, then
/// feasibility (written unless `feas` is null). `tables` is the base of every table laid end
/// to end (table `t` at byte offset `table_offs[t]`): a parameter, so it stays in a register.
pub(super) fn build(b: &mut FunctionBuilder, plan: &Plan, helpers: Vec<FuncRef>, dense_ptrs: Vec<i64>, table_offs: Vec<i32>, pairs: &[Pair]) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let (rows, n, out, feas, tables) = (p[0], p[1], p[2], p[3], p[4]);
    let (loop_rows, iv) = RowLoop::open(b, n);
    let row_bytes = (plan.n_dec * 8) as i64;
    let roff = b.ins().imul_imm_s(iv, row_bytes);
    let row = b.ins().iadd(rows, roff);
    let ooff = b.ins().imul_imm_s(iv, (plan.n_metrics() * 8) as i64);
    let orow = b.ins().iadd(out, ooff);
    let mut cg = Cg {
        b: &mut *b,
        plan,
        helpers,
        dense_ptrs,
        tables,
        table_offs,
        row,
        slots: vec![None; plan.n_dec],
        positions: vec![None; plan.n_dec],
        conditional: plan.conditional.clone(),
    };
    let mut paired: Vec<Option<Value>> = vec![None; plan.n_metrics()];
    for p in pairs {
        let (a, b) = cg.pair(p);
        paired[p.metrics.0] = Some(a);
        paired[p.metrics.1] = Some(b);
    }
    let mut vals: Vec<Value> = Vec::new();
    for (mi, m) in plan.metrics.iter().enumerate() {
        let v = match paired[mi] {
            Some(v) => v,
            None => cg.metric(m, &vals),
        };
        cg.b.ins().store(MemFlagsData::trusted(), v, orow, (mi * 8) as i32);
        vals.push(v);
    }
    // feasibility (skipped when `feas` is null)
    let mut ok = cg.b.ins().iconst(types::I8, 1);
    for c in &plan.constraints {
        let v = cg.expr(c, &vals);
        let z = cg.b.ins().f64const(0.0);
        let holds = cg.b.ins().fcmp(FloatCC::NotEqual, v, z);
        ok = cg.b.ins().band(ok, holds);
    }
    let has_feas = cg.b.ins().icmp_imm_s(IntCC::NotEqual, feas, 0);
    let store_blk = cg.b.create_block();
    let next = cg.b.create_block();
    cg.b.ins().brif(has_feas, store_blk, &[], next, &[]);
    cg.b.switch_to_block(store_blk);
    let faddr = cg.b.ins().iadd(feas, iv);
    cg.b.ins().store(MemFlagsData::trusted(), ok, faddr, 0);
    cg.b.ins().jump(next, &[]);
    cg.b.switch_to_block(next);
    loop_rows.close(cg.b);
    b.ins().return_(&[]);
    b.seal_all_blocks();
}
