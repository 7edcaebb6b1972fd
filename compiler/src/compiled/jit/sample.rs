//! Code generation of the sampling program (safe: builds cranelift IR only).
//!
//! `nasc_sample_batch(seed, counter, n, out) -> counter` writes `n` rows and returns the RNG
//! counter after them. splitmix64 and the multiply-shift `below` are inlined, so a choice costs
//! a handful of integer instructions; a subset calls `nasc_subset` (the shared Rust
//! `draw_subset_weighted`, with the size weights computed once), so every backend draws the same members from the same counter.
use super::super::plan::{PDraw, PLit, Plan, ABSENT};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value};
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

/// Emit the body of `nasc_sample_batch`; `b` is positioned at a fresh function with params
/// (seed: i64, counter: i64, n: i64, out: ptr) and returns i64.
pub(super) fn build(b: &mut FunctionBuilder, plan: &Plan, subset_fn: FuncRef, weights: &[Vec<f64>]) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let (seed, counter0, n, out) = (p[0], p[1], p[2], p[3]);
    let counter = b.declare_var(types::I64);
    b.def_var(counter, counter0);
    let i = b.declare_var(types::I64);
    let zero = b.ins().iconst(types::I64, 0);
    b.def_var(i, zero);
    // the subset helper advances the counter through this slot
    let slot = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
    let header = b.create_block();
    let body = b.create_block();
    let exit = b.create_block();
    b.ins().jump(header, &[]);
    b.switch_to_block(header);
    let iv = b.use_var(i);
    let done = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, iv, n);
    b.ins().brif(done, exit, &[], body, &[]);
    b.switch_to_block(body);
    let iv = b.use_var(i);
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
        draw_value(b, &step.draw, &weights[d], seed, counter, row, d, slot, subset_fn);
        b.ins().jump(next, &[]);
        b.switch_to_block(next);
    }
    let iv = b.use_var(i);
    let iv2 = b.ins().iadd_imm_s(iv, 1);
    b.def_var(i, iv2);
    b.ins().jump(header, &[]);
    b.switch_to_block(exit);
    let c = b.use_var(counter);
    b.ins().return_(&[c]);
    b.seal_all_blocks();
}

#[allow(clippy::too_many_arguments)]
fn draw_value(b: &mut FunctionBuilder, draw: &PDraw, weights: &[f64], seed: Value, counter: Variable, row: Value, d: usize, slot: cranelift_codegen::ir::StackSlot, subset_fn: FuncRef) {
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
        PDraw::Subset { pool, min, .. } => {
            b.ins().stack_store(types::I64, c, slot, 0);
            let addr = b.ins().stack_addr(types::I64, slot, 0);
            let args = [
                b.ins().iconst(types::I64, *pool as i64),
                b.ins().iconst(types::I64, *min as i64),
                b.ins().iconst(types::I64, weights.as_ptr() as i64),
                b.ins().iconst(types::I64, weights.len() as i64),
                seed,
                addr,
            ];
            let inst = b.ins().call(subset_fn, &args);
            let m = b.inst_results(inst)[0];
            let c2 = b.ins().stack_load(types::I64, types::I64, slot, 0);
            b.def_var(counter, c2);
            m
        }
    };
    b.ins().store(MemFlagsData::trusted(), v, row, (d * 8) as i32);
}
