//! The cranelift backend: the `Plan`'s metrics and constraints compiled to native batch loops.
//! All of nasc's `unsafe` code is in this module: calling the compiled functions (their
//! signatures are the platform C ABI, checked against the declarations below) and the
//! addresses of the tables they read, which this struct owns for as long as the code lives.
use super::interp::{h_max, h_min, h_pow, h_rem, h_round};
use super::plan::{PExpr, PMetric, Plan, PosMap, ABSENT};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use nasc_grammar::ast::BinOp;

type BatchFn = unsafe extern "C" fn(*const u64, u64, *mut f64, *mut u8);

pub struct JitFns {
    _module: JITModule,
    eval: BatchFn,
    /// tables and position maps the code reads by address
    _tables: Vec<Vec<f64>>,
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
        let mut module = JITModule::new(jb);
        let tcfg = module.target_config();
        let ptr = tcfg.pointer_type();

        let tables: Vec<Vec<f64>> = plan.tables.iter().map(|t| t.data.clone()).collect();
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
        module.finalize_definitions().map_err(|e| e.to_string())?;
        let code = module.get_finalized_function(id);
        // SAFETY: `code` was compiled from the signature (ptr, i64, ptr, ptr) -> () in the
        // platform's default C calling convention, which is `BatchFn`.
        let eval = unsafe { std::mem::transmute::<*const u8, BatchFn>(code) };
        Ok(JitFns { _module: module, eval, _tables: tables, _dense: dense })
    }

    /// Metrics of `n` rows (the caller checked the slice lengths).
    pub fn metrics_batch(&self, rows: &[u64], n: usize, out: &mut [f64]) {
        // SAFETY: rows holds n rows of n_dec slots and out n rows of n_metrics (checked by the
        // caller); a null `feas` is never written.
        unsafe { (self.eval)(rows.as_ptr(), n as u64, out.as_mut_ptr(), std::ptr::null_mut()) }
    }

    pub fn eval_batch(&self, rows: &[u64], n: usize, out: &mut [f64], feas: &mut [u8]) {
        // SAFETY: as above, and feas holds at least n bytes.
        unsafe { (self.eval)(rows.as_ptr(), n as u64, out.as_mut_ptr(), feas.as_mut_ptr()) }
    }
}

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

    fn position_uncached(&mut self, d: usize) -> Value {
        let s = self.slot(d);
        if !self.conditional[d] {
            if let PosMap::Choice { .. } = &self.plan.pos[d] {
                return s;
            }
        }
        let is_absent = self.b.ins().icmp_imm_s(IntCC::Equal, s, ABSENT as i64);
        match &self.plan.pos[d] {
            PosMap::Choice { absent } => {
                let a = self.b.ins().iconst(types::I64, *absent as i64);
                self.b.ins().select(is_absent, a, s)
            }
            PosMap::Subset { absent, .. } => {
                // an absent slot reads entry 0 of the map, then is replaced
                let zero = self.b.ins().iconst(types::I64, 0);
                let safe = self.b.ins().select(is_absent, zero, s);
                let off = self.b.ins().ishl_imm_s(safe, 2);
                let base = self.b.ins().iconst(types::I64, self.dense_ptrs[d]);
                let addr = self.b.ins().iadd(base, off);
                let p32 = self.b.ins().load(types::I32, MemFlagsData::trusted(), addr, 0);
                let p = self.b.ins().uextend(types::I64, p32);
                let a = self.b.ins().iconst(types::I64, *absent as i64);
                self.b.ins().select(is_absent, a, p)
            }
            PosMap::None => self.b.ins().iconst(types::I64, 0),
        }
    }

    fn metric(&mut self, m: &PMetric, vals: &[Value]) -> Value {
        match m {
            PMetric::Additive { constant, tables, members } => {
                let mut v = self.b.ins().f64const(*constant);
                for &ti in tables {
                    let t = &self.plan.tables[ti];
                    let mut idx = self.b.ins().iconst(types::I64, 0);
                    for &(d, stride) in &t.scope {
                        let p = self.position(d);
                        let ps = if stride == 1 { p } else { self.b.ins().imul_imm_s(p, stride as i64) };
                        idx = self.b.ins().iadd(idx, ps);
                    }
                    let off = self.b.ins().ishl_imm_s(idx, 3);
                    let base = self.b.ins().iconst(types::I64, self.table_ptrs[ti]);
                    let addr = self.b.ins().iadd(base, off);
                    let x = self.b.ins().load(types::F64, MemFlagsData::trusted(), addr, 0);
                    v = self.b.ins().fadd(v, x);
                }
                for &(d, j, c) in members {
                    let s = self.slot(d);
                    let present = self.b.ins().icmp_imm_s(IntCC::NotEqual, s, ABSENT as i64);
                    let sh = self.b.ins().ushr_imm_s(s, j as i64);
                    let bit = self.b.ins().band_imm_s(sh, 1);
                    let on = self.b.ins().icmp_imm_s(IntCC::Equal, bit, 1);
                    let both = self.b.ins().band(present, on);
                    let added = {
                        let cv = self.b.ins().f64const(c);
                        self.b.ins().fadd(v, cv)
                    };
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

    fn expr(&mut self, e: &PExpr, vals: &[Value]) -> Value {
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
