//! NSE checkpoints: the state between or inside rounds ([`NseState`], its [`crate::nse::RoundCursor`])
//! with the supernet's shared weights, BN statistics, momentum, fitness indicators and Adam
//! state, as one little-endian byte string. f32 values are stored bit for bit, so a resumed run
//! continues exactly. A checkpoint names its supernet spec and is refused for another one.

use crate::nse::{NseState, RoundCursor, RoundRecord, Scored};
use crate::supernet::{Shared, Supernet};

const MAGIC: &[u8; 8] = b"NSECKPT2";

/// Why a checkpoint cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    /// Not an NSE checkpoint (or another version).
    NotACheckpoint,
    /// The bytes end early or hold an impossible length.
    Truncated,
    /// Written for another supernet (its spec is quoted).
    OtherSpec(String),
    /// A value out of range for this supernet.
    Invalid(String),
}

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointError::NotACheckpoint => f.write_str("not an nse checkpoint (wrong magic or version)"),
            CheckpointError::Truncated => f.write_str("the nse checkpoint is truncated or damaged"),
            CheckpointError::OtherSpec(s) => write!(f, "the nse checkpoint belongs to another supernet: `{s}`"),
            CheckpointError::Invalid(s) => write!(f, "the nse checkpoint holds an invalid value: {s}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn f32s(&mut self, v: &[f32]) {
        self.u64(v.len() as u64);
        for x in v {
            self.0.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }
    fn list(&mut self, v: &[usize]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|&x| self.u64(x as u64));
    }
    fn lists(&mut self, v: &[Vec<usize>]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|l| self.list(l));
    }
    fn pairs(&mut self, v: &[(usize, usize)]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|&(a, b)| {
            self.u64(a as u64);
            self.u64(b as u64)
        });
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn shared(&mut self, s: &Shared) {
        self.f32s(&s.params);
        self.f32s(&s.stats);
        self.f32s(&s.momentum);
    }
    fn scored(&mut self, s: &[Scored]) {
        self.u64(s.len() as u64);
        for x in s {
            self.lists(&x.arch);
            self.f64(x.macs);
            self.f64(x.accuracy);
        }
    }
}

struct R<'a>(&'a [u8]);

type Res<T> = Result<T, CheckpointError>;

impl R<'_> {
    fn take(&mut self, n: usize) -> Res<&[u8]> {
        if self.0.len() < n {
            return Err(CheckpointError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn usize(&mut self) -> Res<usize> {
        usize::try_from(self.u64()?).map_err(|_| CheckpointError::Truncated)
    }
    /// A length whose elements take at least `each` bytes (bounded by what is left).
    fn len(&mut self, each: usize) -> Res<usize> {
        let n = self.usize()?;
        if n.checked_mul(each).is_none_or(|b| b > self.0.len()) {
            return Err(CheckpointError::Truncated);
        }
        Ok(n)
    }
    fn f64(&mut self) -> Res<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn f32s(&mut self) -> Res<Vec<f32>> {
        let n = self.len(4)?;
        Ok(self.take(4 * n)?.chunks(4).map(|c| f32::from_bits(u32::from_le_bytes(c.try_into().expect("4 bytes")))).collect())
    }
    fn list(&mut self) -> Res<Vec<usize>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.usize()).collect()
    }
    fn lists(&mut self) -> Res<Vec<Vec<usize>>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.list()).collect()
    }
    fn pairs(&mut self) -> Res<Vec<(usize, usize)>> {
        let n = self.len(16)?;
        (0..n).map(|_| Ok((self.usize()?, self.usize()?))).collect()
    }
    fn bytes(&mut self) -> Res<Vec<u8>> {
        let n = self.len(1)?;
        Ok(self.take(n)?.to_vec())
    }
    fn shared(&mut self) -> Res<Shared> {
        Ok(Shared { params: self.f32s()?, stats: self.f32s()?, momentum: self.f32s()? })
    }
    fn scored(&mut self) -> Res<Vec<Scored>> {
        let n = self.len(24)?;
        (0..n).map(|_| Ok(Scored { arch: self.lists()?, macs: self.f64()?, accuracy: self.f64()? })).collect()
    }
}

/// The checkpoint of `state` with `net`'s weights and indicators.
pub fn encode(state: &NseState, net: &Supernet) -> Vec<u8> {
    let mut w = W::default();
    w.0.extend_from_slice(MAGIC);
    w.bytes(format!("{:?}", net.spec).as_bytes());
    w.u64(state.round as u64);
    w.u64(state.finished as u64);
    w.lists(&state.active);
    w.lists(&state.pending);
    w.lists(&state.locked);
    w.u64(state.prev_front.len() as u64);
    state.prev_front.iter().for_each(|a| w.lists(a));
    w.u64(state.history.len() as u64);
    for r in &state.history {
        w.u64(r.round as u64);
        w.lists(&r.space);
        w.pairs(&r.dropped);
        w.lists(&r.simplified);
        w.scored(&r.front);
        w.u64(r.evaluated as u64);
        let (samples, extra): (Vec<Scored>, Vec<usize>) = r.samples.iter().map(|(s, x)| (s.clone(), usize::from(*x))).unzip();
        w.scored(&samples);
        w.list(&extra);
        w.lists(&r.aggregated);
        w.f32s(&[r.train_loss]);
        w.f64(r.seconds);
        w.u64(r.theta.len() as u64);
        r.theta.iter().for_each(|t| w.f32s(t));
    }
    match &state.cursor {
        None => w.u64(0),
        Some(c) => {
            w.u64(1);
            w.u64(c.epoch as u64);
            w.u64(c.step as u64);
            w.u64(c.rng);
            w.lists(&c.space);
            w.pairs(&c.dropped);
            w.f32s(&[c.train_loss]);
            w.f64(c.seconds);
        }
    }
    w.lists(&net.active);
    net.fixed.iter().for_each(|s| w.shared(s));
    net.ops.iter().flatten().for_each(|s| w.shared(s));
    net.theta.iter().for_each(|t| w.f32s(t));
    w.f32s(&[net.adam.lr, net.adam.beta1, net.adam.beta2]);
    net.adam.m.iter().chain(&net.adam.v).for_each(|t| w.f32s(t));
    w.u64(net.adam.step as u64);
    w.0
}

/// Reads a checkpoint back into `net` (built from the same spec) and returns the state.
/// `net` is left unchanged when the checkpoint is refused.
pub fn decode(bytes: &[u8], net: &mut Supernet) -> Result<NseState, CheckpointError> {
    let mut r = R(bytes);
    if r.take(MAGIC.len()).map_err(|_| CheckpointError::NotACheckpoint)? != MAGIC {
        return Err(CheckpointError::NotACheckpoint);
    }
    let spec = String::from_utf8_lossy(&r.bytes()?).into_owned();
    if spec != format!("{:?}", net.spec) {
        return Err(CheckpointError::OtherSpec(spec));
    }
    let (nl, np) = (net.spec.layers.len(), net.spec.pool.len());
    let ops_ok = |ls: &Vec<Vec<usize>>| ls.len() == nl && ls.iter().flatten().all(|&o| o < np);
    let round = r.usize()?;
    let finished = r.u64()? != 0;
    let (active, pending, locked) = (r.lists()?, r.lists()?, r.lists()?);
    let n = r.len(8)?;
    let prev_front = (0..n).map(|_| r.lists()).collect::<Res<Vec<_>>>()?;
    if !(ops_ok(&active) && ops_ok(&pending) && ops_ok(&locked) && prev_front.iter().all(ops_ok)) {
        return Err(CheckpointError::Invalid(format!("op lists must name pool ops (0..{np}) for each of the {nl} layers")));
    }
    let n = r.len(8)?;
    let mut history = Vec::with_capacity(n);
    for _ in 0..n {
        history.push(RoundRecord {
            round: r.usize()?,
            space: r.lists()?,
            dropped: r.pairs()?,
            simplified: r.lists()?,
            front: r.scored()?,
            evaluated: r.usize()?,
            samples: {
                let samples = r.scored()?;
                let extra = r.list()?;
                if extra.len() != samples.len() {
                    return Err(CheckpointError::Invalid("sample flags".into()));
                }
                samples.into_iter().zip(extra.into_iter().map(|x| x != 0)).collect()
            },
            aggregated: r.lists()?,
            train_loss: r.f32s()?.first().copied().ok_or(CheckpointError::Truncated)?,
            seconds: r.f64()?,
            theta: {
                let n = r.len(8)?;
                (0..n).map(|_| r.f32s()).collect::<Res<Vec<_>>>()?
            },
        });
    }
    let cursor = match r.u64()? {
        0 => None,
        1 => Some(RoundCursor {
            epoch: r.usize()?,
            step: r.usize()?,
            rng: r.u64()?,
            space: r.lists()?,
            dropped: r.pairs()?,
            train_loss: r.f32s()?.first().copied().ok_or(CheckpointError::Truncated)?,
            seconds: r.f64()?,
        }),
        v => return Err(CheckpointError::Invalid(format!("round cursor tag {v}"))),
    };
    let net_active = r.lists()?;
    if !ops_ok(&net_active) {
        return Err(CheckpointError::Invalid("the supernet's active ops".into()));
    }
    let fixed = [r.shared()?, r.shared()?];
    let mut ops = Vec::with_capacity(nl);
    for _ in 0..nl {
        ops.push((0..np).map(|_| r.shared()).collect::<Res<Vec<_>>>()?);
    }
    let theta = (0..nl).map(|_| r.f32s()).collect::<Res<Vec<_>>>()?;
    let hyper = r.f32s()?;
    let m = (0..nl).map(|_| r.f32s()).collect::<Res<Vec<_>>>()?;
    let v = (0..nl).map(|_| r.f32s()).collect::<Res<Vec<_>>>()?;
    let step = u32::try_from(r.u64()?).map_err(|_| CheckpointError::Invalid("adam step".into()))?;
    if !r.0.is_empty() {
        return Err(CheckpointError::Invalid("trailing bytes".into()));
    }
    let same = |a: &Shared, b: &Shared| a.params.len() == b.params.len() && a.stats.len() == b.stats.len() && a.momentum.len() == b.params.len();
    let shapes_ok = fixed.iter().zip(&net.fixed).all(|(a, b)| same(a, b))
        && ops.iter().flatten().zip(net.ops.iter().flatten()).all(|(a, b)| same(a, b))
        && [&theta, &m, &v].iter().all(|t| t.iter().all(|row| row.len() == np))
        && hyper.len() == 3;
    if !shapes_ok {
        return Err(CheckpointError::Invalid("weight or indicator sizes do not fit the supernet".into()));
    }
    net.active = net_active;
    net.fixed = fixed;
    net.ops = ops;
    net.theta = theta;
    net.adam.lr = hyper[0];
    net.adam.beta1 = hyper[1];
    net.adam.beta2 = hyper[2];
    net.adam.m = m;
    net.adam.v = v;
    net.adam.step = step;
    Ok(NseState { round, active, pending, locked, prev_front, history, finished, cursor })
}
