//! Code generation of the sampling program (safe: builds cranelift IR only).
//!
//! `nasc_sample_batch(seed, counter, n, out) -> counter` writes `n` rows and returns the RNG
//! counter after them. splitmix64, the multiply-shift `below` and the subset draw
//! (`space::draw_subset_weighted`: the size by its weights, then Floyd's members) are inlined,
//! with the same operations in the same order, so every backend draws the same rows from the
//! same counter.
use super::super::plan::{PDraw, PLit, Plan, ABSENT};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, Block, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::{FunctionBuilder, Variable};

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
const MIX1: u64 = 0xBF58_476D_1CE4_E5B9;
const MIX2: u64 = 0x94D0_49BB_1331_11EB;

/// splitmix64(seed, counter) as in `rng::splitmix64`.
pub(super) fn splitmix(b: &mut FunctionBuilder, seed: Value, counter: Value) -> Value {
    let c1 = b.ins().iadd_imm_s(counter, 1);
    let g = b.ins().imul_imm_s(c1, GOLDEN as i64);
    let mut z = b.ins().iadd(seed, g);
    for (shift, mul) in [(30, MIX1), (27, MIX2)] {
        let s = b.ins().ushr_imm_s(z, shift);
        let x = b.ins().bxor(z, s);
        z = b.ins().imul_imm_s(x, mul as i64);
    }
    let s = b.ins().ushr_imm_s(z, 31);
    b.ins().bxor(z, s)
}

fn lit(b: &mut FunctionBuilder, row: Value, l: PLit) -> Value {
    let load = |b: &mut FunctionBuilder, d: usize| b.ins().load(types::I64, MemFlagsData::trusted(), row, (d * 8) as i32);
    match l {
        PLit::Is(d, v) => {
            let s = load(b, d);
            b.ins().icmp_imm_s(IntCC::Equal, s, v as i64)
        }
        PLit::Absent(d) => {
            let s = load(b, d);
            b.ins().icmp_imm_s(IntCC::Equal, s, ABSENT as i64)
        }
        PLit::Present(d) => {
            let s = load(b, d);
            b.ins().icmp_imm_s(IntCC::NotEqual, s, ABSENT as i64)
        }
        PLit::Member(d, j, want) => {
            let s = load(b, d);
            let present = b.ins().icmp_imm_s(IntCC::NotEqual, s, ABSENT as i64);
            let sh = b.ins().ushr_imm_s(s, j as i64);
            let bit = b.ins().band_imm_s(sh, 1);
            let ok = b.ins().icmp_imm_s(IntCC::Equal, bit, want as i64);
            b.ins().band(present, ok)
        }
    }
}

/// Branch to `yes` when a decision with existence condition `when` exists given the slots of
/// `row` so far, else to `no` (the first row whose literals all hold decides; none: absent).
pub(super) fn exists_branch(b: &mut FunctionBuilder, row: Value, when: Option<&[(Vec<PLit>, bool)]>, yes: Block, no: Block) {
    let Some(rows) = when else {
        b.ins().jump(yes, &[]);
        return;
    };
    for (lits, holds) in rows {
        let target = if *holds { yes } else { no };
        let test_next = b.create_block();
        let mut all = b.ins().iconst(types::I8, 1);
        for l in lits {
            let t = lit(b, row, *l);
            all = b.ins().band(all, t);
        }
        b.ins().brif(all, target, &[], test_next, &[]);
        b.switch_to_block(test_next);
    }
    b.ins().jump(no, &[]);
}

/// The batch loop `for i in 0..n` of a generated function: [`RowLoop::open`] leaves the builder
/// in the loop body and returns the row index; [`RowLoop::close`] steps the index, jumps back,
/// and leaves the builder in the block after the loop.
pub(super) struct RowLoop {
    i: Variable,
    header: Block,
    exit: Block,
}

impl RowLoop {
    pub(super) fn open(b: &mut FunctionBuilder, n: Value) -> (RowLoop, Value) {
        let i = b.declare_var(types::I64);
        let zero = b.ins().iconst(types::I64, 0);
        b.def_var(i, zero);
        let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
        b.ins().jump(header, &[]);
        b.switch_to_block(header);
        let iv = b.use_var(i);
        let done = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, iv, n);
        b.ins().brif(done, exit, &[], body, &[]);
        b.switch_to_block(body);
        let iv = b.use_var(i);
        (RowLoop { i, header, exit }, iv)
    }

    pub(super) fn close(self, b: &mut FunctionBuilder) {
        let iv = b.use_var(self.i);
        let next = b.ins().iadd_imm_s(iv, 1);
        b.def_var(self.i, next);
        b.ins().jump(self.header, &[]);
        b.switch_to_block(self.exit);
    }
}

/// Emit the body of `nasc_sample_batch`; `b` is positioned at a fresh function with params
/// (seed: i64, counter: i64, n: i64, out: ptr) and returns i64.
pub(super) fn build(b: &mut FunctionBuilder, plan: &Plan) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let (seed, counter0, n, out) = (p[0], p[1], p[2], p[3]);
    let counter = b.declare_var(types::I64);
    b.def_var(counter, counter0);
    let (batch, iv) = RowLoop::open(b, n);
    let roff = b.ins().imul_imm_s(iv, (plan.n_dec * 8) as i64);
    let row = b.ins().iadd(out, roff);
    let absent = b.ins().iconst(types::I64, ABSENT as i64);
    // literals may read any slot: start from an all-absent row, as the interpreter does
    for d in 0..plan.n_dec {
        b.ins().store(MemFlagsData::trusted(), absent, row, (d * 8) as i32);
    }
    for (d, step) in plan.sample.iter().enumerate() {
        let draw = b.create_block();
        let next = b.create_block();
        exists_branch(b, row, step.when.as_deref(), draw, next);
        b.switch_to_block(draw);
        draw_value(b, &step.draw, seed, counter, row, d);
        b.ins().jump(next, &[]);
        b.switch_to_block(next);
    }
    batch.close(b);
    let c = b.use_var(counter);
    b.ins().return_(&[c]);
    b.seal_all_blocks();
}

fn draw_value(b: &mut FunctionBuilder, draw: &PDraw, seed: Value, counter: Variable, row: Value, d: usize) {
    let c = b.use_var(counter);
    let v = match draw {
        PDraw::Choice(n) => {
            let n = *n;
            let x = splitmix(b, seed, c);
            let c2 = b.ins().iadd_imm_s(c, 1);
            b.def_var(counter, c2);
            let nv = b.ins().iconst(types::I64, n as i64);
            b.ins().umulhi(x, nv)
        }
        PDraw::Subset { pool, min, weights, .. } => subset_inline(b, *pool, *min, weights, seed, counter),
    };
    b.ins().store(MemFlagsData::trusted(), v, row, (d * 8) as i32);
}

/// `space::draw_subset_weighted` inlined: the size by the weights (one draw), then Floyd's
/// k members (k draws), with the same floating-point operations in the same order.
fn subset_inline(b: &mut FunctionBuilder, pool: u64, min: u32, weights: &[f64], seed: Value, counter: Variable) -> Value {
    let total: f64 = weights.iter().sum();
    let c = b.use_var(counter);
    let x = splitmix(b, seed, c);
    let c2 = b.ins().iadd_imm_s(c, 1);
    b.def_var(counter, c2);
    let hi = b.ins().ushr_imm_s(x, 11);
    let u = b.ins().fcvt_from_uint(types::F64, hi);
    let scale = b.ins().f64const((1u64 << 53) as f64);
    let q = b.ins().fdiv(u, scale);
    let tot = b.ins().f64const(total);
    let r0 = b.ins().fmul(q, tot);
    // the size: the first weight above the remaining r (else the last)
    let (k, r) = (b.declare_var(types::I64), b.declare_var(types::F64));
    let k0 = b.ins().iconst(types::I64, min as i64);
    b.def_var(k, k0);
    b.def_var(r, r0);
    let join = b.create_block();
    for (i, w) in weights.iter().enumerate() {
        let (found, cont) = (b.create_block(), b.create_block());
        let rv = b.use_var(r);
        let wv = b.ins().f64const(*w);
        let lt = b.ins().fcmp(FloatCC::LessThan, rv, wv);
        let ki = b.ins().iconst(types::I64, min as i64 + i as i64);
        b.def_var(k, ki);
        b.ins().brif(lt, found, &[], cont, &[]);
        b.switch_to_block(found);
        b.ins().jump(join, &[]);
        b.switch_to_block(cont);
        let r2 = b.ins().fsub(rv, wv);
        b.def_var(r, r2);
    }
    b.ins().jump(join, &[]);
    b.switch_to_block(join);
    // Floyd: for j in pool - k .. pool, t = below(j + 1); set j if t is already set, else t
    let kv = b.use_var(k);
    let n = b.ins().iconst(types::I64, pool as i64);
    let (j, m) = (b.declare_var(types::I64), b.declare_var(types::I64));
    let j0 = b.ins().isub(n, kv);
    b.def_var(j, j0);
    let zero = b.ins().iconst(types::I64, 0);
    b.def_var(m, zero);
    let (hdr, body, done) = (b.create_block(), b.create_block(), b.create_block());
    b.ins().jump(hdr, &[]);
    b.switch_to_block(hdr);
    let jv = b.use_var(j);
    let fin = b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, jv, pool as i64);
    b.ins().brif(fin, done, &[], body, &[]);
    b.switch_to_block(body);
    let jv = b.use_var(j);
    let j1 = b.ins().iadd_imm_s(jv, 1);
    let c = b.use_var(counter);
    let x = splitmix(b, seed, c);
    let c2 = b.ins().iadd_imm_s(c, 1);
    b.def_var(counter, c2);
    let t = b.ins().umulhi(x, j1);
    let mv = b.use_var(m);
    let sh = b.ins().ushr(mv, t);
    let bit = b.ins().band_imm_s(sh, 1);
    let taken = b.ins().icmp_imm_s(IntCC::NotEqual, bit, 0);
    let pos = b.ins().select(taken, jv, t);
    let one = b.ins().iconst(types::I64, 1);
    let nb = b.ins().ishl(one, pos);
    let m2 = b.ins().bor(mv, nb);
    b.def_var(m, m2);
    b.def_var(j, j1);
    b.ins().jump(hdr, &[]);
    b.switch_to_block(done);
    b.use_var(m)
}
