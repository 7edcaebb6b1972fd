//! The neighbor program: a valid row at edit distance k from a row, as `Space::neighbor`
//! (`moves.rs`) defines it, over the `Plan`'s rows, with the same RNG draws in the same order.
//! This is the reference the JIT (`jit/neighbor.rs`) is tested against; both call the subset
//! move helpers below.
//!
//! Per try (at most `NEIGHBOR_TRIES`): k distinct editable decisions by Floyd's algorithm
//! (k draws), then the row is rebuilt in decision order: a decision that does not exist stays
//! `ABSENT`, one that did not exist before takes its default, a picked one draws its edit (one
//! draw), the others keep their value. The try succeeds when all k picked decisions still
//! exist and every value is in its domain.
use super::plan::{PDraw, Plan, ABSENT};
use crate::moves::NEIGHBOR_TRIES;
use crate::rng::Rng;

fn pool_mask(n: u64) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Bit `i` (none when `i` is 64 or more).
fn bit(i: u32) -> u64 {
    1u64.checked_shl(i).unwrap_or(0)
}

/// The index of the `t`-th set bit of `x` (64 when there is none).
fn nth_set(mut x: u64, t: u64) -> u32 {
    for _ in 0..t {
        x &= x.wrapping_sub(1);
    }
    x.trailing_zeros()
}

/// The number of one-edit moves of subset mask `m` (pool `n`, sizes `min..=max`): removes,
/// adds, swaps, as `Space::subset_moves` lists them.
pub fn subset_move_count(n: u64, min: u32, max: u32, m: u64) -> u64 {
    let n = n.min(64);
    let k = m.count_ones();
    let ones = (m & pool_mask(n)).count_ones() as u64;
    let zeros = n - ones;
    (if k > min { ones } else { 0 }) + (if k < max { zeros } else { 0 }) + ones * zeros
}

/// Move `t` (below `subset_move_count`) of `Space::subset_moves(m)`.
pub fn subset_move(n: u64, min: u32, max: u32, m: u64, mut t: u64) -> u64 {
    let n = n.min(64);
    let k = m.count_ones();
    let set = m & pool_mask(n);
    let unset = !m & pool_mask(n);
    let (ones, zeros) = (set.count_ones() as u64, unset.count_ones() as u64);
    if k > min {
        if t < ones {
            return m & !bit(nth_set(set, t));
        }
        t -= ones;
    }
    if k < max {
        if t < zeros {
            return m | bit(nth_set(unset, t));
        }
        t -= zeros;
    }
    if zeros == 0 {
        return m;
    }
    let (o, i) = (nth_set(set, t / zeros), nth_set(unset, t % zeros));
    (m & !bit(o)) | bit(i)
}

/// A uniform one-edit move of a subset value (one draw): the edit both backends make.
pub fn subset_edit(n: u64, min: u32, max: u32, m: u64, rng: &mut Rng) -> u64 {
    let count = subset_move_count(n, min, max, m);
    subset_move(n, min, max, m, rng.below(count))
}

/// Whether a decision with this draw can be edited at slot `s`.
pub fn editable(draw: &PDraw, s: u64) -> bool {
    s != ABSENT
        && match draw {
            PDraw::Choice(n) => *n > 1,
            PDraw::Subset { pool, min, max, .. } => subset_move_count(*pool, *min, *max, s) > 0,
        }
}

/// Whether a present slot is a value of the decision's domain.
pub fn in_domain(draw: &PDraw, v: u64) -> bool {
    match draw {
        PDraw::Choice(n) => v < *n,
        PDraw::Subset { pool, min, max, .. } => (*pool >= 64 || v >> pool == 0) && (*min..=*max).contains(&v.count_ones()),
    }
}

/// The reference neighbor program: writes the neighbor of `row` at distance `k` into `out`
/// and returns true, or returns false (no such neighbor found; `out` is then unspecified).
pub fn neighbor_row(plan: &Plan, row: &[u64], k: usize, rng: &mut Rng, out: &mut [u64]) -> bool {
    let n_dec = plan.n_dec;
    let editable: Vec<usize> = (0..n_dec).filter(|&d| editable(&plan.sample[d].draw, row[d])).collect();
    if k == 0 {
        out.copy_from_slice(row);
        return true;
    }
    if editable.len() < k {
        return false;
    }
    let mut marked = vec![false; n_dec];
    for _ in 0..NEIGHBOR_TRIES {
        marked.fill(false);
        let n = editable.len() as u64;
        for j in (n - k as u64)..n {
            let t = rng.below(j + 1) as usize;
            let pick = if marked[editable[t]] { editable[j as usize] } else { editable[t] };
            marked[pick] = true;
        }
        out.fill(ABSENT);
        let (mut changed, mut valid) = (0, true);
        for d in 0..n_dec {
            let step = &plan.sample[d];
            if !super::interp::exists(step, out) {
                continue;
            }
            let old = row[d];
            let v = if old == ABSENT {
                plan.defaults[d]
            } else if marked[d] {
                changed += 1;
                match &step.draw {
                    PDraw::Choice(n) => {
                        let w = rng.below(n - 1);
                        if w >= old {
                            w + 1
                        } else {
                            w
                        }
                    }
                    PDraw::Subset { pool, min, max, .. } => subset_edit(*pool, *min, *max, old, rng),
                }
            } else {
                old
            };
            valid &= in_domain(&step.draw, v);
            out[d] = v;
        }
        if changed == k && valid {
            return true;
        }
    }
    false
}
