//! The cranelift backend: the `Plan`'s metrics and constraints, and its sampling program,
//! compiled to native batch loops (codegen in `eval` and `sample`, which are safe code).
//! All of nasc's `unsafe` code is in this module: calling the compiled functions (their
//! signatures are the platform C ABI, checked against the declarations below) and the
//! addresses of the tables they read, which this struct owns for as long as the code lives.
mod eval;
mod neighbor;
mod sample;

use super::interp::{h_max, h_min, h_pow, h_rem, h_round};
use super::plan::{Plan, PosMap};
use crate::rng::Rng;
use crate::space::draw_subset_weighted;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

type BatchFn = unsafe extern "C" fn(*const u64, u64, *mut f64, *mut u8);
type SampleFn = unsafe extern "C" fn(u64, u64, u64, *mut u64) -> u64;
type NeighborFn = unsafe extern "C" fn(*const u64, *mut u64, u64, u64, *mut u64, *mut u64) -> u64;

/// The sampling program's subset draw: `draw_subset_weighted` on the counter behind `counter`.
extern "C" fn nasc_subset(pool: u64, min: u64, weights: *const f64, n_weights: u64, seed: u64, counter: *mut u64) -> u64 {
    // SAFETY: the compiled sampler passes the address of its own 8-byte stack slot, and the
    // address and length of a weights vector that `JitFns::_weights` owns.
    let (c, w) = unsafe { (&mut *counter, std::slice::from_raw_parts(weights, n_weights as usize)) };
    let mut rng = Rng { seed, counter: *c };
    let m = draw_subset_weighted(pool, min as u32, w, &mut rng);
    *c = rng.counter;
    m
}

/// The neighbor program's subset edit: `neighbor::subset_edit` on the counter behind `counter`.
extern "C" fn nasc_subset_edit(pool: u64, min: u64, max: u64, m: u64, seed: u64, counter: *mut u64) -> u64 {
    // SAFETY: the compiled neighbor program passes the counter pointer its caller
    // (`JitFns::neighbor`) gave it, the address of a live, exclusively borrowed u64.
    let c = unsafe { &mut *counter };
    let mut rng = Rng { seed, counter: *c };
    let v = super::neighbor::subset_edit(pool, min as u32, max as u32, m, &mut rng);
    *c = rng.counter;
    v
}

pub struct JitFns {
    _module: JITModule,
    eval: BatchFn,
    sample: SampleFn,
    neighbor: NeighborFn,
    /// tables and position maps the code reads by address
    _tables: Vec<Vec<f64>>,
    /// subset size weights of the sampling program, read by `nasc_subset` (same order as `plan.sample`)
    _weights: Vec<Vec<f64>>,
    _dense: Vec<Vec<u32>>,
}

// SAFETY: the compiled code is immutable after finalization and only reads the tables this
// struct owns (never mutated after compile); calls from several threads are sound.
unsafe impl Send for JitFns {}
unsafe impl Sync for JitFns {}

const HELPERS: [(&str, usize); 5] = [("nasc_min", 2), ("nasc_max", 2), ("nasc_round", 1), ("nasc_pow", 2), ("nasc_rem", 2)];

struct Cg<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    plan: &'a Plan,
    helpers: Vec<cranelift_codegen::ir::FuncRef>,
    dense_ptrs: Vec<i64>,
    table_ptrs: Vec<i64>,
    row: Value,
    /// per-row cache of slot loads and positions (straight-line code: each dominates its uses)
    slots: Vec<Option<Value>>,
    positions: Vec<Option<Value>>,
    /// decisions that can be absent
    conditional: Vec<bool>,
}

impl JitFns {
    pub fn compile(plan: &Plan) -> Result<JitFns, String> {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
        let isa = cranelift_native::builder()
            .map_err(|e| format!("no cranelift backend for this machine: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| e.to_string())?;
        let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        jb.symbol("nasc_min", h_min as *const u8);
        jb.symbol("nasc_max", h_max as *const u8);
        jb.symbol("nasc_round", h_round as *const u8);
        jb.symbol("nasc_pow", h_pow as *const u8);
        jb.symbol("nasc_rem", h_rem as *const u8);
        jb.symbol("nasc_subset", nasc_subset as *const u8);
        jb.symbol("nasc_subset_edit", nasc_subset_edit as *const u8);
        let mut module = JITModule::new(jb);
        let tcfg = module.target_config();
        let ptr = tcfg.pointer_type();

        let tables: Vec<Vec<f64>> = plan.tables.iter().map(|t| t.data.clone()).collect();
        let weights: Vec<Vec<f64>> = plan.sample.iter().map(|st| if let super::plan::PDraw::Subset { weights, .. } = &st.draw { weights.clone() } else { Vec::new() }).collect();
        let dense: Vec<Vec<u32>> = plan.pos.iter().map(|p| if let PosMap::Subset { dense, .. } = p { dense.clone() } else { Vec::new() }).collect();

        let mut helper_ids: Vec<FuncId> = Vec::new();
        for (name, arity) in HELPERS {
            let mut sig = module.make_signature();
            for _ in 0..arity {
                sig.params.push(AbiParam::new(types::F64));
            }
            sig.returns.push(AbiParam::new(types::F64));
            helper_ids.push(module.declare_function(name, Linkage::Import, &sig).map_err(|e| e.to_string())?);
        }

        let mut ctx = module.make_context();
        for _ in 0..2 {
            ctx.func.signature.params.push(AbiParam::new(ptr));
        }
        ctx.func.signature.params.insert(1, AbiParam::new(types::I64));
        ctx.func.signature.params.push(AbiParam::new(ptr));
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let helpers = helper_ids.iter().map(|id| module.declare_func_in_func(*id, b.func)).collect();
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let p = b.block_params(entry).to_vec();
            let (rows, n, out, feas) = (p[0], p[1], p[2], p[3]);
            let i = b.declare_var(types::I64);
            let zero = b.ins().iconst(types::I64, 0);
            b.def_var(i, zero);
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
            let row_bytes = (plan.n_dec * 8) as i64;
            let roff = b.ins().imul_imm_s(iv, row_bytes);
            let row = b.ins().iadd(rows, roff);
            let ooff = b.ins().imul_imm_s(iv, (plan.n_metrics() * 8) as i64);
            let orow = b.ins().iadd(out, ooff);
            let mut cg = Cg {
                b: &mut b,
                plan,
                helpers,
                dense_ptrs: dense.iter().map(|d| d.as_ptr() as i64).collect(),
                table_ptrs: tables.iter().map(|t| t.as_ptr() as i64).collect(),
                row,
                slots: vec![None; plan.n_dec],
                positions: vec![None; plan.n_dec],
                conditional: plan.conditional.clone(),
            };
            let mut vals: Vec<Value> = Vec::new();
            for (mi, m) in plan.metrics.iter().enumerate() {
                let v = cg.metric(m, &vals);
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
            let iv2 = cg.b.ins().iadd_imm_s(iv, 1);
            cg.b.def_var(i, iv2);
            cg.b.ins().jump(header, &[]);
            b.switch_to_block(exit);
            b.ins().return_(&[]);
            b.seal_all_blocks();
            b.finalize(tcfg);
        }
        let id = module.declare_function("nasc_eval_batch", Linkage::Local, &ctx.func.signature).map_err(|e| e.to_string())?;
        module.define_function(id, &mut ctx).map_err(|e| format!("cranelift: {e:?}"))?;
        module.clear_context(&mut ctx);

        // the sampling program
        let mut subset_sig = module.make_signature();
        for t in [types::I64, types::I64, ptr, types::I64, types::I64, ptr] {
            subset_sig.params.push(AbiParam::new(t));
        }
        subset_sig.returns.push(AbiParam::new(types::I64));
        let subset_id = module.declare_function("nasc_subset", Linkage::Import, &subset_sig).map_err(|e| e.to_string())?;
        for _ in 0..3 {
            ctx.func.signature.params.push(AbiParam::new(types::I64));
        }
        ctx.func.signature.params.push(AbiParam::new(ptr));
        ctx.func.signature.returns.push(AbiParam::new(types::I64));
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let subset_fn = module.declare_func_in_func(subset_id, b.func);
            sample::build(&mut b, plan, subset_fn, &weights);
            b.finalize(tcfg);
        }
        let sid = module.declare_function("nasc_sample_batch", Linkage::Local, &ctx.func.signature).map_err(|e| e.to_string())?;
        module.define_function(sid, &mut ctx).map_err(|e| format!("cranelift: {e:?}"))?;
        module.clear_context(&mut ctx);

        // the neighbor program
        let mut edit_sig = module.make_signature();
        for t in [types::I64, types::I64, types::I64, types::I64, types::I64, ptr] {
            edit_sig.params.push(AbiParam::new(t));
        }
        edit_sig.returns.push(AbiParam::new(types::I64));
        let edit_id = module.declare_function("nasc_subset_edit", Linkage::Import, &edit_sig).map_err(|e| e.to_string())?;
        for t in [ptr, ptr, types::I64, types::I64, ptr, ptr] {
            ctx.func.signature.params.push(AbiParam::new(t));
        }
        ctx.func.signature.returns.push(AbiParam::new(types::I64));
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let edit_fn = module.declare_func_in_func(edit_id, b.func);
            neighbor::build(&mut b, plan, edit_fn);
            b.finalize(tcfg);
        }
        let nid = module.declare_function("nasc_neighbor", Linkage::Local, &ctx.func.signature).map_err(|e| e.to_string())?;
        module.define_function(nid, &mut ctx).map_err(|e| format!("cranelift: {e:?}"))?;
        module.clear_context(&mut ctx);

        module.finalize_definitions().map_err(|e| e.to_string())?;
        let code = module.get_finalized_function(id);
        // SAFETY: `code` was compiled from the signature (ptr, i64, ptr, ptr) -> () in the
        // platform's default C calling convention, which is `BatchFn`.
        let eval = unsafe { std::mem::transmute::<*const u8, BatchFn>(code) };
        let scode = module.get_finalized_function(sid);
        // SAFETY: compiled from (i64, i64, i64, ptr) -> i64 in the default C convention: `SampleFn`.
        let sample = unsafe { std::mem::transmute::<*const u8, SampleFn>(scode) };
        let ncode = module.get_finalized_function(nid);
        // SAFETY: compiled from (ptr, ptr, i64, i64, ptr, ptr) -> i64 in the default C
        // convention: `NeighborFn`.
        let neighbor = unsafe { std::mem::transmute::<*const u8, NeighborFn>(ncode) };
        Ok(JitFns { _module: module, eval, sample, neighbor, _tables: tables, _weights: weights, _dense: dense })
    }

    /// Metrics of `n` rows (the caller checked the slice lengths).
    pub fn metrics_batch(&self, rows: &[u64], n: usize, out: &mut [f64]) {
        // SAFETY: rows holds n rows of n_dec slots and out n rows of n_metrics (checked by the
        // caller); a null `feas` is never written.
        unsafe { (self.eval)(rows.as_ptr(), n as u64, out.as_mut_ptr(), std::ptr::null_mut()) }
    }

    /// `out.len() / n_dec` sampled rows from `rng` (advanced past them).
    pub fn sample_batch(&self, rng: &mut Rng, n_dec: usize, out: &mut [u64]) {
        let n = if n_dec == 0 { 0 } else { out.len() / n_dec };
        // SAFETY: out holds n rows of n_dec slots, the layout the sampler was compiled for.
        rng.counter = unsafe { (self.sample)(rng.seed, rng.counter, n as u64, out.as_mut_ptr()) };
    }

    /// The neighbor program on `row` (n_dec slots) into `out` (n_dec slots); false when none.
    pub fn neighbor(&self, row: &[u64], k: usize, rng: &mut Rng, out: &mut [u64]) -> bool {
        let n_dec = row.len();
        if out.len() != n_dec {
            return false;
        }
        let mut scratch = vec![0u64; 2 * n_dec];
        let mut counter = rng.counter;
        // SAFETY: row and out hold n_dec slots (the layout the program was compiled for; the
        // caller checked row.len() == n_dec), scratch 2 * n_dec words, and counter is a live
        // local the program and its subset-edit callback read and write.
        let found = unsafe { (self.neighbor)(row.as_ptr(), out.as_mut_ptr(), k as u64, rng.seed, &mut counter, scratch.as_mut_ptr()) };
        rng.counter = counter;
        found == 1
    }

    pub fn eval_batch(&self, rows: &[u64], n: usize, out: &mut [f64], feas: &mut [u8]) {
        // SAFETY: as above, and feas holds at least n bytes.
        unsafe { (self.eval)(rows.as_ptr(), n as u64, out.as_mut_ptr(), feas.as_mut_ptr()) }
    }
}

