//! Code generation of the discretization program (safe: builds cranelift IR only); the
//! reference is `compiled::discretize::run`.
//!
//! `nasc_discretize_{argmax,darts}(alpha, out)`: decisions in order, each under its existence
//! condition; a choice's argmax is an inlined compare-and-select chain over its row (the first
//! index of the largest weight, as the reference's strict `>` scan); a subset calls
//! `nasc_disc_subset` (the shared `discretize::subset_pick`) with the address of its step.
use super::super::discretize::choice_candidates;
use super::super::plan::{PDisc, Plan, ABSENT};
use super::sample::exists_branch;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData};
use cranelift_frontend::FunctionBuilder;

/// Emit the body of a discretizer with params (alpha: ptr, n_alpha: i64, out: ptr); `steps`
/// are the addresses of `plan.disc`'s entries as the JIT owns them.
pub(super) fn build(b: &mut FunctionBuilder, plan: &Plan, steps: &[i64], darts: bool, subset_fn: FuncRef) {
    let flags = MemFlagsData::trusted();
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let p = b.block_params(entry).to_vec();
    let (alpha, n_alpha, out) = (p[0], p[1], p[2]);
    let absent = b.ins().iconst(types::I64, ABSENT as i64);
    for d in 0..plan.n_dec {
        b.ins().store(flags, absent, out, (d * 8) as i32);
    }
    for (d, step) in plan.disc.iter().enumerate() {
        let (present, next) = (b.create_block(), b.create_block());
        exists_branch(b, out, plan.sample[d].when.as_deref(), present, next);
        b.switch_to_block(present);
        let v = match step {
            PDisc::Choice { off, zero, .. } => {
                let cand = choice_candidates(zero, darts);
                match cand.split_first() {
                    None => b.ins().iconst(types::I64, 0),
                    Some((first, rest)) => {
                        let mut bi = b.ins().iconst(types::I64, *first as i64);
                        let mut bv = b.ins().load(types::F64, flags, alpha, ((off + first) * 8) as i32);
                        for &i in rest {
                            let v = b.ins().load(types::F64, flags, alpha, ((off + i) * 8) as i32);
                            let gt = b.ins().fcmp(FloatCC::GreaterThan, v, bv);
                            let iv = b.ins().iconst(types::I64, i as i64);
                            bi = b.ins().select(gt, iv, bi);
                            bv = b.ins().select(gt, v, bv);
                        }
                        bi
                    }
                }
            }
            PDisc::Subset { .. } => {
                let sp = b.ins().iconst(types::I64, steps[d]);
                let dv = b.ins().iconst(types::I64, i64::from(darts));
                let inst = b.ins().call(subset_fn, &[alpha, n_alpha, sp, dv]);
                b.inst_results(inst)[0]
            }
        };
        b.ins().store(flags, v, out, (d * 8) as i32);
        b.ins().jump(next, &[]);
        b.switch_to_block(next);
    }
    b.ins().return_(&[]);
    b.seal_all_blocks();
}
