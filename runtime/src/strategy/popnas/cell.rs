//! POPNAS cells: a list of blocks `(in1, op1, in2, op2)`, their mapping onto a spec's decisions,
//! equivalence (canonical keys), expansion by one block and the augmentation by reordering
//! independent blocks.
//!
//! An input is a lookback (`-1` the previous cell's output, `-2` the one before) or the index
//! (0-based) of an earlier block of the same cell. An op is an index into [`Layout::ops`].
use super::PopnasError;
use crate::space::SearchSpace;
use nasc_compiler::decision::{DecisionKind, OptValue};
use nasc_compiler::{Candidate, Slot};
use serde::{Deserialize, Serialize};

/// One block: two (input, op) pairs joined by add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Block(pub i64, pub u32, pub i64, pub u32);

impl Block {
    pub fn inputs(&self) -> [i64; 2] {
        [self.0, self.2]
    }
    pub fn ops(&self) -> [u32; 2] {
        [self.1, self.3]
    }
}

pub type Cell = Vec<Block>;

/// Where a spec keeps the cell: the `blocks` decision and, per block position c, the decisions
/// `in1[c]`, `op1[c]`, `in2[c]`, `op2[c]` (as in `specs/popnas_cell.nas`).
#[derive(Debug, Clone)]
pub struct Layout {
    blocks: usize,
    /// The `blocks` decision's options (block counts).
    block_counts: Vec<i64>,
    /// Per block position: decision indices of in1, op1, in2, op2.
    slots: Vec<[usize; 4]>,
    /// Per block position: the input values its in1/in2 decisions offer.
    pub inputs: Vec<Vec<i64>>,
    /// The op names every op decision offers (in option order).
    pub ops: Vec<String>,
}

fn find(space: &SearchSpace, family: &str, index: &[i64]) -> Option<usize> {
    space.inner().decisions().iter().position(|d| d.family == family && d.index == index)
}

fn choice_options(space: &SearchSpace, d: usize) -> Result<&[OptValue], PopnasError> {
    let info = &space.inner().decisions()[d];
    match &info.kind {
        DecisionKind::Choice { options, .. } => Ok(options),
        DecisionKind::Subset { .. } => Err(PopnasError::Subset { decision: info.name.clone() }),
    }
}

fn ints(space: &SearchSpace, d: usize) -> Result<Vec<i64>, PopnasError> {
    choice_options(space, d)?
        .iter()
        .map(|o| match o {
            OptValue::Int(i) => Ok(*i),
            other => Err(PopnasError::NotIntegers { decision: space.inner().decisions()[d].name.clone(), option: other.display() }),
        })
        .collect()
}

impl Layout {
    /// Read the cell decisions of a space; an error names what is missing.
    pub fn of(space: &SearchSpace) -> Result<Layout, PopnasError> {
        let missing = |decision: String| PopnasError::NoDecision { space: space.name().to_string(), decision };
        let blocks = find(space, "blocks", &[]).ok_or_else(|| missing("blocks".into()))?;
        let block_counts = ints(space, blocks)?;
        let max = block_counts.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut slots = Vec::new();
        let mut inputs = Vec::new();
        let mut ops: Option<Vec<String>> = None;
        for c in 0..max {
            let mut s = [0usize; 4];
            for (k, fam) in ["in1", "op1", "in2", "op2"].iter().enumerate() {
                s[k] = find(space, fam, &[c as i64]).ok_or_else(|| missing(format!("{fam}[{c}]")))?;
            }
            let i1 = ints(space, s[0])?;
            if ints(space, s[2])? != i1 {
                return Err(PopnasError::DifferentInputs { block: c });
            }
            if let Some(bad) = i1.iter().find(|&&v| v < -2 || v >= c as i64) {
                return Err(PopnasError::BadInput { input: *bad, block: c });
            }
            for k in [1, 3] {
                let names: Vec<String> = choice_options(space, s[k])?.iter().map(OptValue::display).collect();
                match &ops {
                    None => ops = Some(names),
                    Some(o) if *o == names => {}
                    Some(_) => return Err(PopnasError::OtherOps { decision: space.inner().decisions()[s[k]].name.clone() }),
                }
            }
            slots.push(s);
            inputs.push(i1);
        }
        let ops = ops.ok_or(PopnasError::NoBlockCount)?;
        Ok(Layout { blocks, block_counts, slots, inputs, ops })
    }

    /// The largest block count the space allows.
    pub fn max_blocks(&self) -> usize {
        self.block_counts.iter().copied().filter(|&b| b > 0 && b as usize <= self.slots.len()).max().unwrap_or(0) as usize
    }

    /// Whether the space offers a cell of `b` blocks.
    pub fn allows(&self, b: usize) -> bool {
        self.block_counts.contains(&(b as i64)) && b <= self.slots.len()
    }

    /// The candidate of a cell (None if the space cannot express it).
    pub fn candidate(&self, cell: &[Block], n_decisions: usize) -> Option<Candidate> {
        let mut slots = vec![Slot::Absent; n_decisions];
        let b = self.block_counts.iter().position(|&v| v == cell.len() as i64)?;
        slots[self.blocks] = Slot::Opt(b as u32);
        for (c, blk) in cell.iter().enumerate() {
            let s = self.slots.get(c)?;
            let inp = &self.inputs[c];
            slots[s[0]] = Slot::Opt(inp.iter().position(|&v| v == blk.0)? as u32);
            slots[s[2]] = Slot::Opt(inp.iter().position(|&v| v == blk.2)? as u32);
            if blk.1 as usize >= self.ops.len() || blk.3 as usize >= self.ops.len() {
                return None;
            }
            slots[s[1]] = Slot::Opt(blk.1);
            slots[s[3]] = Slot::Opt(blk.3);
        }
        Some(Candidate(slots))
    }

    /// The cell of a candidate (None if it is not one of this layout's).
    pub fn cell(&self, c: &Candidate) -> Option<Cell> {
        let opt = |d: usize| match c.0.get(d) {
            Some(Slot::Opt(v)) => Some(*v as usize),
            _ => None,
        };
        let b = *self.block_counts.get(opt(self.blocks)?)? as usize;
        (0..b)
            .map(|k| {
                let s = self.slots.get(k)?;
                Some(Block(*self.inputs[k].get(opt(s[0])?)?, opt(s[1])? as u32, *self.inputs[k].get(opt(s[2])?)?, opt(s[3])? as u32))
            })
            .collect()
    }
}

/// The candidates of a step: every expansion of `parents` by one block (inputs `inputs`, ops
/// `ops`) whose key is not in `seen` (the trained cells; each new key is added). Returns them
/// with the count of expansions made and of those pruned as equivalent.
pub fn step_candidates<'c>(parents: impl IntoIterator<Item = &'c Cell>, seen: &mut std::collections::HashSet<String>, inputs: &[i64], ops: &[u32]) -> (Vec<Cell>, usize, usize) {
    let (mut uniq, mut encodings, mut pruned) = (Vec::new(), 0, 0);
    for p in parents {
        for c in expansions(p, inputs, ops) {
            encodings += 1;
            if seen.insert(key(&c)) {
                uniq.push(c);
            } else {
                pruned += 1;
            }
        }
    }
    (uniq, encodings, pruned)
}

/// The canonical key of a cell: cells with equal keys build the same network. Block inputs are
/// resolved recursively (an input block is replaced by its own canonical form), a block's two
/// (input, op) pairs are sorted (add commutes), and the blocks are sorted (their order in the
/// encoding does not matter).
pub fn key(cell: &[Block]) -> String {
    let mut forms: Vec<String> = Vec::with_capacity(cell.len());
    for b in cell {
        let term = |inp: i64, op: u32| -> String {
            if inp < 0 {
                format!("{inp}:{op}")
            } else {
                format!("({}):{op}", forms.get(inp as usize).map_or("?", String::as_str))
            }
        };
        let mut t = [term(b.0, b.1), term(b.2, b.3)];
        t.sort();
        forms.push(format!("{}+{}", t[0], t[1]));
    }
    forms.sort();
    forms.join(";")
}

/// Every cell of one block over `ops` and the lookbacks `inputs`, one per equivalence class,
/// in a fixed order; and the number of encodings dropped as equivalent (the specular pairs).
pub fn single_blocks(inputs: &[i64], ops: &[u32]) -> (Vec<Cell>, usize) {
    let pairs: Vec<(i64, u32)> = inputs.iter().flat_map(|&i| ops.iter().map(move |&o| (i, o))).collect();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut pruned = 0;
    for &(i1, o1) in &pairs {
        for &(i2, o2) in &pairs {
            let c = vec![Block(i1, o1, i2, o2)];
            if seen.insert(key(&c)) {
                out.push(c);
            } else {
                pruned += 1;
            }
        }
    }
    (out, pruned)
}

/// Every cell made of `cell` plus one block at its end, whose inputs come from `inputs` and ops
/// from `ops` (all ordered pairs: equivalent ones are removed by their keys later).
pub fn expansions(cell: &[Block], inputs: &[i64], ops: &[u32]) -> Vec<Cell> {
    let pairs: Vec<(i64, u32)> = inputs.iter().flat_map(|&i| ops.iter().map(move |&o| (i, o))).collect();
    let mut out = Vec::with_capacity(pairs.len() * pairs.len());
    for &(i1, o1) in &pairs {
        for &(i2, o2) in &pairs {
            let mut c = cell.to_vec();
            c.push(Block(i1, o1, i2, o2));
            out.push(c);
        }
    }
    out
}

/// The blocks each block reads (earlier block indices).
fn deps(cell: &[Block]) -> Vec<Vec<usize>> {
    cell.iter().map(|b| b.inputs().iter().filter(|&&i| i >= 0).map(|&i| i as usize).collect()).collect()
}

/// Equivalent encodings of a cell obtained by reordering its blocks in every order that keeps
/// each block after the blocks it reads (inputs renumbered), the cell itself first; at most
/// `limit`. The paper's data augmentation for the accuracy predictor.
pub fn reorderings(cell: &[Block], limit: usize) -> Vec<Cell> {
    let d = deps(cell);
    let n = cell.len();
    let mut out: Vec<Cell> = Vec::new();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut used = vec![false; n];
    fn rec(cell: &[Block], d: &[Vec<usize>], order: &mut Vec<usize>, used: &mut [bool], out: &mut Vec<Cell>, limit: usize) {
        if out.len() >= limit {
            return;
        }
        if order.len() == cell.len() {
            let mut pos = vec![0i64; cell.len()];
            for (new, &old) in order.iter().enumerate() {
                pos[old] = new as i64;
            }
            let remap = |i: i64| if i < 0 { i } else { pos[i as usize] };
            out.push(order.iter().map(|&o| Block(remap(cell[o].0), cell[o].1, remap(cell[o].2), cell[o].3)).collect());
            return;
        }
        for k in 0..cell.len() {
            if !used[k] && d[k].iter().all(|&p| used[p]) {
                used[k] = true;
                order.push(k);
                rec(cell, d, order, used, out, limit);
                order.pop();
                used[k] = false;
            }
        }
    }
    rec(cell, &d, &mut order, &mut used, &mut out, limit.max(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_see_swaps_and_permutations() {
        let a = vec![Block(-1, 0, -2, 3), Block(0, 1, -1, 2)];
        // pairs swapped in both blocks
        let b = vec![Block(-2, 3, -1, 0), Block(-1, 2, 0, 1)];
        assert_eq!(key(&a), key(&b));
        // blocks reordered: block 1 reads nothing of block 0 here
        let c = vec![Block(-1, 0, -2, 3), Block(-1, 1, -1, 2)];
        let d = vec![Block(-1, 1, -1, 2), Block(-1, 0, -2, 3)];
        assert_eq!(key(&c), key(&d));
        // reading another block is not the same as reading a lookback
        assert_ne!(key(&a), key(&c));
        // an input resolved recursively: the same block read at other positions
        let e = vec![Block(-1, 1, -1, 2), Block(-1, 0, -2, 3), Block(1, 4, -1, 5)];
        let f = vec![Block(-1, 0, -2, 3), Block(-1, 1, -1, 2), Block(0, 4, -1, 5)];
        assert_eq!(key(&e), key(&f));
        let g = vec![Block(-1, 0, -2, 3), Block(-1, 1, -1, 2), Block(1, 4, -1, 5)];
        assert_ne!(key(&e), key(&g));
    }

    #[test]
    fn single_blocks_count_unordered_pairs() {
        let ops: Vec<u32> = (0..12).collect();
        let (cells, pruned) = single_blocks(&[-2, -1], &ops);
        assert_eq!(cells.len(), 300); // the paper's 300 unique blocks for b = 1
        assert_eq!(pruned, 576 - 300);
    }

    #[test]
    fn reorderings_keep_dependencies() {
        let c = vec![Block(-1, 0, -1, 0), Block(-2, 1, -2, 1), Block(0, 2, -1, 3)];
        let r = reorderings(&c, 100);
        // block 2 reads block 0: orders 012, 102, 021? no: 2 after 0 -> 012, 021, 102
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], c);
        for x in &r {
            assert_eq!(key(x), key(&c));
        }
        assert_eq!(reorderings(&c, 2).len(), 2);
    }
}
