//! Code generation of the neighbor program (safe: builds cranelift IR only); the reference is
//! `compiled::neighbor::neighbor_row`, whose steps and RNG draws this follows one for one.
//!
//! `nasc_neighbor(row, out, k, seed, counter, scratch) -> found` reads the RNG counter from
//! and writes it back to `*counter`; `scratch` holds `2 * n_dec` words (the editable
//! decisions, then one mark per decision). Choice edits, Floyd's picks and splitmix64 are
//! inlined; a subset edit calls `nasc_subset_edit` (the shared `neighbor::subset_edit`).
use super::super::plan::{PDraw, Plan, ABSENT};
use super::sample::{exists_branch, splitmix};
use crate::moves::NEIGHBOR_TRIES;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::{FunctionBuilder, Variable};

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Whether a decision with `draw` can be edited at slot `s` (`neighbor::editable`), as an i8.
fn editable(b: &mut FunctionBuilder, draw: &PDraw, s: Value) -> Value {
    let present = b.ins().icmp_imm_s(IntCC::NotEqual, s, ABSENT as i64);
    match draw {
        PDraw::Choice(n) if *n > 1 => present,
        PDraw::Choice(_) => b.ins().iconst(types::I8, 0),
        PDraw::Subset { pool, min, max, .. } => {
            let n = (*pool).min(64);
            let mask = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
            let k = b.ins().popcnt(s);
            let set = b.ins().band_imm_s(s, mask as i64);
            let ones = b.ins().popcnt(set);
            let any_one = b.ins().icmp_imm_s(IntCC::NotEqual, ones, 0);
            let any_zero = b.ins().icmp_imm_s(IntCC::UnsignedLessThan, ones, n as i64);
            let can_remove = b.ins().icmp_imm_s(IntCC::UnsignedGreaterThan, k, *min as i64);
            let can_add = b.ins().icmp_imm_s(IntCC::UnsignedLessThan, k, *max as i64);
            let r = b.ins().band(can_remove, any_one);
            let a = b.ins().band(can_add, any_zero);
            let sw = b.ins().band(any_one, any_zero);
            let ra = b.ins().bor(r, a);
            let any = b.ins().bor(ra, sw);
            b.ins().band(present, any)
        }
    }
}

/// Whether `v` is in the decision's domain (`neighbor::in_domain`), as an i8.
fn in_domain(b: &mut FunctionBuilder, draw: &PDraw, v: Value) -> Value {
    match draw {
        PDraw::Choice(n) => b.ins().icmp_imm_s(IntCC::UnsignedLessThan, v, *n as i64),
        PDraw::Subset { pool, min, max, .. } => {
            let c = b.ins().popcnt(v);
            let ge = b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, c, *min as i64);
            let le = b.ins().icmp_imm_s(IntCC::UnsignedLessThanOrEqual, c, *max as i64);
            let ok = b.ins().band(ge, le);
            if *pool >= 64 {
                ok
            } else {
                let hi = b.ins().ushr_imm_s(v, *pool as i64);
                let z = b.ins().icmp_imm_s(IntCC::Equal, hi, 0);
                b.ins().band(ok, z)
            }
        }
    }
}

/// One RNG draw below `n` (a value), advancing `counter`.
fn below(b: &mut FunctionBuilder, seed: Value, counter: Variable, n: Value) -> Value {
    let c = b.use_var(counter);
    let x = splitmix(b, seed, c);
    let c2 = b.ins().iadd_imm_s(c, 1);
    b.def_var(counter, c2);
    b.ins().umulhi(x, n)
}

/// Emit the body of `nasc_neighbor`; `b` is positioned at a fresh function with params
/// (row: ptr, out: ptr, k: i64, seed: i64, counter: ptr, scratch: ptr) returning i64.
pub(super) fn build(b: &mut FunctionBuilder, plan: &Plan, edit_fn: FuncRef) {
    let n_dec = plan.n_dec;
    let marks = (n_dec * 8) as i64;
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let (row, out, k, seed, cptr, scratch) = (p[0], p[1], p[2], p[3], p[4], p[5]);
    let counter = b.declare_var(types::I64);
    let c0 = b.ins().load(types::I64, flags(), cptr, 0);
    b.def_var(counter, c0);
    // the editable decisions, appended without branches (entry `len` is written every time)
    let mut len = b.ins().iconst(types::I64, 0);
    for d in 0..n_dec {
        let s = b.ins().load(types::I64, flags(), row, (d * 8) as i32);
        let e = editable(b, &plan.sample[d].draw, s);
        let off = b.ins().ishl_imm_s(len, 3);
        let addr = b.ins().iadd(scratch, off);
        let dv = b.ins().iconst(types::I64, d as i64);
        b.ins().store(flags(), dv, addr, 0);
        let e64 = b.ins().uextend(types::I64, e);
        len = b.ins().iadd(len, e64);
    }
    let (copy, check, fail, success) = (b.create_block(), b.create_block(), b.create_block(), b.create_block());
    let is_zero = b.ins().icmp_imm_s(IntCC::Equal, k, 0);
    b.ins().brif(is_zero, copy, &[], check, &[]);
    // k = 0: the row itself
    b.switch_to_block(copy);
    for d in 0..n_dec {
        let s = b.ins().load(types::I64, flags(), row, (d * 8) as i32);
        b.ins().store(flags(), s, out, (d * 8) as i32);
    }
    b.ins().jump(success, &[]);
    for (blk, found) in [(success, 1), (fail, 0)] {
        b.switch_to_block(blk);
        let c = b.use_var(counter);
        b.ins().store(flags(), c, cptr, 0);
        let r = b.ins().iconst(types::I64, found);
        b.ins().return_(&[r]);
    }
    b.switch_to_block(check);
    let tries = b.declare_var(types::I64);
    let zero = b.ins().iconst(types::I64, 0);
    b.def_var(tries, zero);
    let (try_hdr, try_body) = (b.create_block(), b.create_block());
    let too_few = b.ins().icmp(IntCC::UnsignedLessThan, len, k);
    b.ins().brif(too_few, fail, &[], try_hdr, &[]);
    b.switch_to_block(try_hdr);
    let t = b.use_var(tries);
    let spent = b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, t, NEIGHBOR_TRIES as i64);
    b.ins().brif(spent, fail, &[], try_body, &[]);
    b.switch_to_block(try_body);
    for d in 0..n_dec {
        b.ins().store(flags(), zero, scratch, marks as i32 + (d * 8) as i32);
    }
    // Floyd: for j in len - k .. len, t = below(j + 1); pick editable[t] unless marked, else editable[j]
    let j = b.declare_var(types::I64);
    let j0 = b.ins().isub(len, k);
    b.def_var(j, j0);
    let (floyd_hdr, floyd_body, rebuild) = (b.create_block(), b.create_block(), b.create_block());
    b.ins().jump(floyd_hdr, &[]);
    b.switch_to_block(floyd_hdr);
    let jv = b.use_var(j);
    let fin = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, jv, len);
    b.ins().brif(fin, rebuild, &[], floyd_body, &[]);
    b.switch_to_block(floyd_body);
    let jv = b.use_var(j);
    let j1 = b.ins().iadd_imm_s(jv, 1);
    let t = below(b, seed, counter, j1);
    let toff = b.ins().ishl_imm_s(t, 3);
    let taddr = b.ins().iadd(scratch, toff);
    let et = b.ins().load(types::I64, flags(), taddr, 0);
    let moff = b.ins().ishl_imm_s(et, 3);
    let maddr = b.ins().iadd(scratch, moff);
    let mt = b.ins().load(types::I64, flags(), maddr, marks as i32);
    let joff = b.ins().ishl_imm_s(jv, 3);
    let jaddr = b.ins().iadd(scratch, joff);
    let ej = b.ins().load(types::I64, flags(), jaddr, 0);
    let taken = b.ins().icmp_imm_s(IntCC::NotEqual, mt, 0);
    let pick = b.ins().select(taken, ej, et);
    let poff = b.ins().ishl_imm_s(pick, 3);
    let paddr = b.ins().iadd(scratch, poff);
    let one = b.ins().iconst(types::I64, 1);
    b.ins().store(flags(), one, paddr, marks as i32);
    b.def_var(j, j1);
    b.ins().jump(floyd_hdr, &[]);
    // rebuild the row in decision order
    b.switch_to_block(rebuild);
    let changed = b.declare_var(types::I64);
    let valid = b.declare_var(types::I8);
    let val = b.declare_var(types::I64);
    let zero = b.ins().iconst(types::I64, 0);
    b.def_var(changed, zero);
    let yes = b.ins().iconst(types::I8, 1);
    b.def_var(valid, yes);
    let absent = b.ins().iconst(types::I64, ABSENT as i64);
    for d in 0..n_dec {
        b.ins().store(flags(), absent, out, (d * 8) as i32);
    }
    for d in 0..n_dec {
        let step = &plan.sample[d];
        let (present, next) = (b.create_block(), b.create_block());
        exists_branch(b, out, step.when.as_deref(), present, next);
        b.switch_to_block(present);
        let (dflt, kept, edit, store) = (b.create_block(), b.create_block(), b.create_block(), b.create_block());
        let old = b.ins().load(types::I64, flags(), row, (d * 8) as i32);
        b.def_var(val, old);
        let was_absent = b.ins().icmp_imm_s(IntCC::Equal, old, ABSENT as i64);
        b.ins().brif(was_absent, dflt, &[], kept, &[]);
        b.switch_to_block(dflt);
        let dv = b.ins().iconst(types::I64, plan.defaults[d] as i64);
        b.def_var(val, dv);
        b.ins().jump(store, &[]);
        b.switch_to_block(kept);
        let m = b.ins().load(types::I64, flags(), scratch, marks as i32 + (d * 8) as i32);
        let marked = b.ins().icmp_imm_s(IntCC::NotEqual, m, 0);
        b.ins().brif(marked, edit, &[], store, &[]);
        b.switch_to_block(edit);
        let ch = b.use_var(changed);
        let ch1 = b.ins().iadd_imm_s(ch, 1);
        b.def_var(changed, ch1);
        let v = match &step.draw {
            PDraw::Choice(n) => {
                let nm1 = b.ins().iconst(types::I64, n.saturating_sub(1) as i64);
                let w = below(b, seed, counter, nm1);
                let ge = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, w, old);
                let w1 = b.ins().iadd_imm_s(w, 1);
                b.ins().select(ge, w1, w)
            }
            PDraw::Subset { pool, min, max, .. } => {
                let c = b.use_var(counter);
                b.ins().store(flags(), c, cptr, 0);
                let args = [b.ins().iconst(types::I64, *pool as i64), b.ins().iconst(types::I64, *min as i64), b.ins().iconst(types::I64, *max as i64), old, seed, cptr];
                let inst = b.ins().call(edit_fn, &args);
                let m = b.inst_results(inst)[0];
                let c2 = b.ins().load(types::I64, flags(), cptr, 0);
                b.def_var(counter, c2);
                m
            }
        };
        b.def_var(val, v);
        b.ins().jump(store, &[]);
        b.switch_to_block(store);
        let v = b.use_var(val);
        b.ins().store(flags(), v, out, (d * 8) as i32);
        let ok = in_domain(b, &step.draw, v);
        let vl = b.use_var(valid);
        let vl2 = b.ins().band(vl, ok);
        b.def_var(valid, vl2);
        b.ins().jump(next, &[]);
        b.switch_to_block(next);
    }
    let ch = b.use_var(changed);
    let exact = b.ins().icmp(IntCC::Equal, ch, k);
    let vl = b.use_var(valid);
    let done = b.ins().band(exact, vl);
    let retry = b.create_block();
    b.ins().brif(done, success, &[], retry, &[]);
    b.switch_to_block(retry);
    let t = b.use_var(tries);
    let t1 = b.ins().iadd_imm_s(t, 1);
    b.def_var(tries, t1);
    b.ins().jump(try_hdr, &[]);
    b.seal_all_blocks();
}
