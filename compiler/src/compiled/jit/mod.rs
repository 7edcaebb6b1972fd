//! The cranelift backend: the `Plan`'s programs compiled to native code: metrics and
//! constraints (a batch loop, `eval`), sampling (a batch loop, `sample`), the neighbor program
//! (`neighbor`) and the two discretizers (`discretize`); the generators are safe code.
//! All of nasc's `unsafe` code is in this module: calling the compiled functions (their
//! signatures are the platform C ABI, checked against the declarations below) and the
//! addresses of the tables they read, which this struct owns for as long as the code lives.
mod discretize;
mod eval;
mod neighbor;
mod sample;

use super::discretize::subset_pick;
use super::interp::{h_max, h_min, h_pow, h_rem, h_round};
use super::plan::{PDisc, Plan, PosMap};
use crate::error::JitError;
use crate::rng::Rng;
use cranelift_codegen::ir::{types, AbiParam, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

type BatchFn = unsafe extern "C" fn(*const u64, u64, *mut f64, *mut u8, *const f64);
type SampleFn = unsafe extern "C" fn(u64, u64, u64, *mut u64) -> u64;
type DiscFn = unsafe extern "C" fn(*const f64, u64, *mut u64);
type NeighborFn = unsafe extern "C" fn(*const u64, *mut u64, u64, u64, *mut u64, *mut u64) -> u64;

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

/// The discretizer's subset step: `discretize::subset_pick` on the flat alpha.
extern "C" fn nasc_disc_subset(alpha: *const f64, n_alpha: u64, step: *const PDisc, darts: u64) -> u64 {
    // SAFETY: the compiled discretizer passes the flat alpha its caller (`JitFns::discretize`)
    // gave it with its length, and the address of an entry of `JitFns::_disc`.
    let (alpha, step) = unsafe { (std::slice::from_raw_parts(alpha, n_alpha as usize), &*step) };
    subset_pick(step, alpha, darts != 0)
}

pub struct JitFns {
    _module: JITModule,
    eval: BatchFn,
    sample: SampleFn,
    neighbor: NeighborFn,
    /// the argmax and DARTS discretizers
    disc_fns: [DiscFn; 2],
    /// the discretization steps `nasc_disc_subset` reads by address
    _disc: Vec<PDisc>,
    /// every cost table laid end to end, then the pairs' interleaved tables (`eval::layout`),
    /// passed to the eval code (offsets compiled in)
    tables: Vec<f64>,
    /// position maps the code reads by address
    _dense: Vec<Vec<u32>>,
    /// The layout the code was compiled for; every safe call below checks its slices against it.
    n_dec: usize,
    n_metrics: usize,
    /// Length of the flat alpha the discretizers read (every step's offsets are below it).
    alpha_len: usize,
}

// SAFETY: the compiled code is immutable after finalization and only reads the tables this
// struct owns (never mutated after compile); calls from several threads are sound.
unsafe impl Send for JitFns {}
unsafe impl Sync for JitFns {}

/// Declares the module's functions and builds their IR; `finish` compiles them, on up to
/// two threads (cranelift compiles one function per context; the five are independent), and
/// defines the code in the module in declaration order (the same code on any thread count).
struct Definer<'m> {
    module: &'m mut JITModule,
    /// (function, its IR, whether it is cold: compiled quickly rather than well)
    built: Vec<(FuncId, cranelift_codegen::Context, bool)>,
    fctx: FunctionBuilderContext,
    /// the target with the settings for cold functions
    cold_isa: cranelift_codegen::isa::OwnedTargetIsa,
}

impl Definer<'_> {
    fn sig(&self, params: &[types::Type], returns: &[types::Type]) -> cranelift_codegen::ir::Signature {
        let mut sig = self.module.make_signature();
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.extend(returns.iter().map(|t| AbiParam::new(*t)));
        sig
    }

    fn import(&mut self, name: &str, params: &[types::Type], ret: Option<types::Type>) -> Result<FuncId, JitError> {
        let sig = self.sig(params, ret.as_slice());
        Ok(self.module.declare_function(name, Linkage::Import, &sig)?)
    }

    /// Build function `name`'s IR (compiled in `finish`); `cold`: a function called rarely
    /// (no optimization, single-pass register allocation: several times faster to compile).
    fn define(
        &mut self,
        name: &str,
        cold: bool,
        params: &[types::Type],
        returns: &[types::Type],
        body: impl FnOnce(&mut FunctionBuilder, &mut JITModule),
    ) -> Result<FuncId, JitError> {
        let mut ctx = self.module.make_context();
        ctx.func.signature = self.sig(params, returns);
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut self.fctx);
            body(&mut b, self.module);
            b.finalize(self.module.target_config());
        }
        let id = self.module.declare_function(name, Linkage::Local, &ctx.func.signature)?;
        self.built.push((id, ctx, cold));
        Ok(id)
    }

    /// Compile every built function and define its code in the module.
    fn finish(self) -> Result<(), JitError> {
        let Definer { module, mut built, cold_isa, .. } = self;
        let two = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        // two shares of about equal work (largest first, to the lighter share; a cold
        // function's instruction counts a quarter)
        let work = |c: &cranelift_codegen::Context, cold: bool| if cold { c.func.dfg.num_insts() / 4 } else { c.func.dfg.num_insts() };
        let mut by_size: Vec<(&mut cranelift_codegen::Context, bool)> = built.iter_mut().map(|(_, c, cold)| (c, *cold)).collect();
        by_size.sort_by_key(|(c, cold)| std::cmp::Reverse(work(c, *cold)));
        let (mut mine, mut other, mut load) = (Vec::new(), Vec::new(), [0usize; 2]);
        for (c, cold) in by_size {
            let share = usize::from(two && load[1] < load[0]);
            load[share] += work(c, cold);
            if share == 0 {
                mine.push((c, cold))
            } else {
                other.push((c, cold))
            }
        }
        let isa = module.isa();
        let cold_isa = &*cold_isa;
        let compile = |ctxs: Vec<(&mut cranelift_codegen::Context, bool)>| -> Result<(), JitError> {
            ctxs.into_iter().try_for_each(|(c, cold)| {
                c.compile(if cold { cold_isa } else { isa }, &mut Default::default()).map(|_| ()).map_err(|e| JitError::Codegen(format!("{:?}", e.inner)))
            })
        };
        std::thread::scope(|s| {
            let helper = s.spawn(|| compile(other));
            let r = compile(mine);
            helper.join().unwrap_or(Err(JitError::ThreadPanicked)).and(r)
        })?;
        for (id, ctx, _) in &built {
            let code = ctx.compiled_code().ok_or(JitError::NotCompiled)?;
            let relocs: Vec<cranelift_module::ModuleReloc> = code.buffer.relocs().iter().map(|r| cranelift_module::ModuleReloc::from_mach_reloc(r, &ctx.func, *id)).collect();
            module.define_function_bytes(*id, code.buffer.alignment as u64, code.code_buffer(), &relocs).map_err(|e| JitError::Codegen(format!("{e:?}")))?;
        }
        Ok(())
    }
}

const HELPERS: [(&str, usize); 5] = [("nasc_min", 2), ("nasc_max", 2), ("nasc_round", 1), ("nasc_pow", 2), ("nasc_rem", 2)];

struct Cg<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    plan: &'a Plan,
    helpers: Vec<cranelift_codegen::ir::FuncRef>,
    dense_ptrs: Vec<i64>,
    /// every table laid end to end (a parameter of the code) and each one's byte offset
    tables: Value,
    table_offs: Vec<i32>,
    row: Value,
    /// per-row cache of slot loads and positions (straight-line code: each dominates its uses)
    slots: Vec<Option<Value>>,
    positions: Vec<Option<Value>>,
    /// decisions that can be absent
    conditional: Vec<bool>,
}

impl JitFns {
    /// Compile every function of `plan`; `verify`: run cranelift's IR verifier on each (about
    /// 40% of the compile time; the differential tests turn it on, and like wasmtime the
    /// product leaves it off).
    pub fn compile(plan: &Plan, verify: bool) -> Result<JitFns, JitError> {
        let target = |cold: bool| -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
            let mut flags = settings::builder();
            flags.set("opt_level", if cold { "none" } else { "speed" })?;
            if cold {
                flags.set("regalloc_algorithm", "single_pass")?;
            }
            flags.set("enable_verifier", if verify { "true" } else { "false" })?;
            cranelift_native::builder().map_err(JitError::NoBackend)?.finish(settings::Flags::new(flags)).map_err(JitError::Isa)
        };
        let isa = target(false)?;
        let cold_isa = target(true)?;
        let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        jb.symbol("nasc_min", h_min as *const u8);
        jb.symbol("nasc_max", h_max as *const u8);
        jb.symbol("nasc_round", h_round as *const u8);
        jb.symbol("nasc_pow", h_pow as *const u8);
        jb.symbol("nasc_rem", h_rem as *const u8);
        jb.symbol("nasc_subset_edit", nasc_subset_edit as *const u8);
        jb.symbol("nasc_disc_subset", nasc_disc_subset as *const u8);
        let mut module = JITModule::new(jb);
        let tcfg = module.target_config();
        let ptr = tcfg.pointer_type();

        let (tables, table_offs, pairs) = eval::layout(plan)?;
        let dense: Vec<Vec<u32>> = plan.pos.iter().map(|p| if let PosMap::Subset { dense, .. } = p { dense.clone() } else { Vec::new() }).collect();

        let mut helper_ids: Vec<FuncId> = Vec::new();
        for (name, arity) in HELPERS {
            let mut sig = module.make_signature();
            for _ in 0..arity {
                sig.params.push(AbiParam::new(types::F64));
            }
            sig.returns.push(AbiParam::new(types::F64));
            helper_ids.push(module.declare_function(name, Linkage::Import, &sig)?);
        }

        let dense_ptrs: Vec<i64> = dense.iter().map(|d| d.as_ptr() as i64).collect();
        let disc: Vec<PDisc> = plan.disc.clone();
        let steps: Vec<i64> = disc.iter().map(|p| p as *const PDisc as i64).collect();
        let mut d = Definer { module: &mut module, built: Vec::new(), fctx: FunctionBuilderContext::new(), cold_isa };
        let i64t = types::I64;
        let id = d.define("nasc_eval_batch", false, &[ptr, i64t, ptr, ptr, ptr], &[], |b, m| {
            let helpers = helper_ids.iter().map(|id| m.declare_func_in_func(*id, b.func)).collect();
            eval::build(b, plan, helpers, dense_ptrs, table_offs, &pairs);
        })?;
        let sid = d.define("nasc_sample_batch", false, &[i64t, i64t, i64t, ptr], &[i64t], |b, _| sample::build(b, plan))?;
        let edit_id = d.import("nasc_subset_edit", &[i64t, i64t, i64t, i64t, i64t, ptr], Some(i64t))?;
        let nid = d.define("nasc_neighbor", false, &[ptr, ptr, i64t, i64t, ptr, ptr], &[i64t], |b, m| {
            let edit_fn = m.declare_func_in_func(edit_id, b.func);
            neighbor::build(b, plan, edit_fn);
        })?;
        let disc_id = d.import("nasc_disc_subset", &[ptr, i64t, ptr, i64t], Some(i64t))?;
        let mut disc_ids = Vec::new();
        for (name, darts) in [("nasc_discretize_argmax", false), ("nasc_discretize_darts", true)] {
            // the discretizers run once per L2NAS episode: cold
            disc_ids.push(d.define(name, true, &[ptr, i64t, ptr], &[], |b, m| {
                let subset_fn = m.declare_func_in_func(disc_id, b.func);
                discretize::build(b, plan, &steps, darts, subset_fn);
            })?);
        }

        d.finish()?;
        module.finalize_definitions()?;
        // SAFETY (the transmutes below): each pointer is the finalized code of a function
        // compiled from the signature given to `define` above, in the platform's default C
        // calling convention, which is the `extern "C"` type it is cast to:
        // (ptr, i64, ptr, ptr, ptr) -> () is `BatchFn`, (i64, i64, i64, ptr) -> i64 `SampleFn`,
        // (ptr, ptr, i64, i64, ptr, ptr) -> i64 `NeighborFn`, (ptr, i64, ptr) -> () `DiscFn`.
        let eval = unsafe { std::mem::transmute::<*const u8, BatchFn>(module.get_finalized_function(id)) };
        let sample = unsafe { std::mem::transmute::<*const u8, SampleFn>(module.get_finalized_function(sid)) };
        let neighbor = unsafe { std::mem::transmute::<*const u8, NeighborFn>(module.get_finalized_function(nid)) };
        let disc_fns = [0, 1].map(|i| unsafe { std::mem::transmute::<*const u8, DiscFn>(module.get_finalized_function(disc_ids[i])) });
        let alpha_len = disc
            .iter()
            .map(|p| match p {
                PDisc::Choice { off, n, .. } => off + n,
                PDisc::Subset { off, n, attached, .. } => attached.iter().map(|(_, o, z)| o + z.len()).fold(off + n, usize::max),
            })
            .max()
            .unwrap_or(0);
        Ok(JitFns { _module: module, eval, sample, neighbor, disc_fns, tables, _dense: dense, _disc: disc, n_dec: plan.n_dec, n_metrics: plan.n_metrics(), alpha_len })
    }

    /// The number of whole rows, at most `n`, that `rows` (n_dec slots each) and `out`
    /// (`per_row` values each) both hold.
    fn fit(&self, n: usize, rows: usize, out: usize, per_row: usize) -> usize {
        n.min(rows.checked_div(self.n_dec).unwrap_or(usize::MAX)).min(out.checked_div(per_row).unwrap_or(usize::MAX))
    }

    /// Metrics of up to `n` rows: as many as `rows` and `out` hold (returned).
    pub fn metrics_batch(&self, rows: &[u64], n: usize, out: &mut [f64]) -> usize {
        let n = self.fit(n, rows.len(), out.len(), self.n_metrics);
        if n == 0 {
            return 0;
        }
        // SAFETY: rows holds n rows of n_dec slots and out n rows of n_metrics (`fit`); a null
        // `feas` is never written; `tables` is the table buffer the code was compiled for (its
        // offsets and indices stay inside it).
        unsafe { (self.eval)(rows.as_ptr(), n as u64, out.as_mut_ptr(), std::ptr::null_mut(), self.tables.as_ptr()) };
        n
    }

    /// `out.len() / n_dec` sampled rows from `rng` (advanced past them); returns how many.
    pub fn sample_batch(&self, rng: &mut Rng, out: &mut [u64]) -> usize {
        let n = out.len().checked_div(self.n_dec).unwrap_or(0);
        if n == 0 {
            return 0;
        }
        // SAFETY: out holds n rows of n_dec slots, the layout the sampler was compiled for.
        rng.counter = unsafe { (self.sample)(rng.seed, rng.counter, n as u64, out.as_mut_ptr()) };
        n
    }

    /// The neighbor program on `row` (n_dec slots) into `out` (n_dec slots); false when none
    /// (or when a slice is not one row of this space).
    pub fn neighbor(&self, row: &[u64], k: usize, rng: &mut Rng, out: &mut [u64]) -> bool {
        let n_dec = self.n_dec;
        if row.len() != n_dec || out.len() != n_dec {
            return false;
        }
        let mut scratch = vec![0u64; 2 * n_dec];
        let mut counter = rng.counter;
        // SAFETY: row and out hold n_dec slots (the layout the program was compiled for;
        // checked above), scratch 2 * n_dec words, and counter is a live
        // local the program and its subset-edit callback read and write.
        let found = unsafe { (self.neighbor)(row.as_ptr(), out.as_mut_ptr(), k as u64, rng.seed, &mut counter, scratch.as_mut_ptr()) };
        rng.counter = counter;
        found == 1
    }

    /// The discretizer (`darts`: the DARTS rule) of a flat alpha (`plan.disc`'s layout) into
    /// `out` (n_dec slots); false (nothing written) when alpha is shorter than that layout or
    /// out is not one row.
    pub fn discretize(&self, alpha: &[f64], darts: bool, out: &mut [u64]) -> bool {
        if alpha.len() < self.alpha_len || out.len() != self.n_dec {
            return false;
        }
        // SAFETY: alpha holds every offset in `plan.disc` (alpha_len is their maximum end) and
        // out holds n_dec slots (both checked above).
        unsafe { (self.disc_fns[usize::from(darts)])(alpha.as_ptr(), alpha.len() as u64, out.as_mut_ptr()) };
        true
    }

    /// Metrics and feasibility of up to `n` rows: as many as `rows`, `out` and `feas` hold
    /// (returned).
    pub fn eval_batch(&self, rows: &[u64], n: usize, out: &mut [f64], feas: &mut [u8]) -> usize {
        let n = self.fit(n, rows.len(), out.len(), self.n_metrics).min(feas.len());
        if n == 0 {
            return 0;
        }
        // SAFETY: as in `metrics_batch`, and feas holds at least n bytes.
        unsafe { (self.eval)(rows.as_ptr(), n as u64, out.as_mut_ptr(), feas.as_mut_ptr(), self.tables.as_ptr()) };
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{compile, NoFiles, Options};

    fn fns() -> (JitFns, usize, usize) {
        let src = "space t;\ninput [3, 8, 8];\nchoice w[3] in [4, 8, 16];\nsubset s of [0, 1, 2] size 1..=2;\nnetwork {\n  let x = conv(input, w[0], 3);\n  return linear(gap(conv(x, w[1], 3)), w[2]);\n}\n";
        let (spec, d) = nasc_grammar::parse(src);
        assert!(d.is_empty(), "{d:?}");
        let (space, d) = compile(&spec, &Options { overrides: vec![], loader: &NoFiles, default_name: "t".into() });
        let space = space.unwrap_or_else(|| panic!("{d:?}"));
        let plan = Plan::new(&space, &[]).unwrap();
        let (nd, nm) = (plan.n_dec, plan.n_metrics());
        (JitFns::compile(&plan, true).unwrap(), nd, nm)
    }

    /// The safe calls stay sound for any slice lengths: they process only the whole rows every
    /// slice holds, and refuse rows of the wrong length.
    #[test]
    fn wrong_lengths_are_clamped_or_refused() {
        let (j, nd, nm) = fns();
        assert!(nd >= 2 && nm >= 1);
        let mut rng = Rng::new(3);
        let mut rows = vec![0u64; 3 * nd + 1];
        assert_eq!(j.sample_batch(&mut rng, &mut rows), 3);
        assert_eq!(j.sample_batch(&mut rng, &mut rows[..nd - 1]), 0);
        let mut out = vec![f64::NAN; 2 * nm + 1];
        assert_eq!(j.metrics_batch(&rows, 100, &mut out), 2, "out holds two rows");
        assert!(out[2 * nm].is_nan(), "nothing written past the rows");
        assert_eq!(j.metrics_batch(&rows[..nd - 1], 1, &mut out), 0);
        assert_eq!(j.metrics_batch(&rows, 3, &mut []), 0);
        let mut feas = vec![7u8; 1];
        assert_eq!(j.eval_batch(&rows, 3, &mut vec![0.0; 3 * nm], &mut feas), 1, "feas holds one row");
        assert!(feas[0] <= 1);
        let mut one = vec![0u64; nd];
        assert!(!j.neighbor(&rows[..nd - 1], 1, &mut rng, &mut one));
        assert!(!j.neighbor(&rows[..nd], 1, &mut rng, &mut one[..nd - 1]));
        assert!(!j.discretize(&[0.5; 2], false, &mut one), "alpha shorter than the layout");
        assert!(!j.discretize(&vec![0.5; j.alpha_len], true, &mut one[..1]));
        assert!(j.discretize(&vec![0.5; j.alpha_len], false, &mut one));
    }
}
