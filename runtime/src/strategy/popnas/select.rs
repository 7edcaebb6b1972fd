//! Choosing the cells to train among the scored expansions: POPNASv2's Pareto front of
//! (predicted accuracy, predicted time), PNAS's top-K by predicted accuracy, and the exploration
//! step (exploration sets of under-used ops and inputs, and the exploration Pareto front).
use super::cell::Cell;
use std::collections::{BTreeMap, HashSet};

/// One distinct expansion with its predictions.
#[derive(Debug, Clone)]
pub struct Scored {
    pub cell: Cell,
    pub acc: f64,
    pub time: f64,
}

/// Indices of `s` by predicted accuracy, best first (ties: faster first, then generation order).
pub fn by_accuracy(s: &[Scored]) -> Vec<usize> {
    let mut o: Vec<usize> = (0..s.len()).collect();
    o.sort_by(|&a, &b| s[b].acc.total_cmp(&s[a].acc).then(s[a].time.total_cmp(&s[b].time)).then(a.cmp(&b)));
    o
}

/// POPNASv2's front (§3.2): the most accurate cell first, then, by decreasing accuracy, every
/// cell faster than the last one taken; at most `k`.
pub fn pareto_front(s: &[Scored], order: &[usize], k: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut last = f64::INFINITY;
    for &i in order {
        if out.len() >= k {
            break;
        }
        if out.is_empty() || s[i].time < last {
            out.push(i);
            last = s[i].time;
        }
    }
    out
}

/// PNAS: the `k` most accurate cells.
pub fn top_k(order: &[usize], k: usize) -> Vec<usize> {
    order.iter().take(k).copied().collect()
}

/// The exploration sets (§3.2): the ops used less than `1 / (5 |O|)` of the op slots of the
/// front's cells, and the inputs used less than `1 / (5 |I|)` of their input slots.
pub fn exploration_sets(front: &[&Cell], ops: &[u32], inputs: &[i64]) -> (Vec<u32>, Vec<i64>) {
    let mut op_n: BTreeMap<u32, usize> = ops.iter().map(|&o| (o, 0)).collect();
    let mut in_n: BTreeMap<i64, usize> = inputs.iter().map(|&i| (i, 0)).collect();
    for c in front {
        for b in c.iter() {
            for o in b.ops() {
                if let Some(n) = op_n.get_mut(&o) {
                    *n += 1;
                }
            }
            for i in b.inputs() {
                if let Some(n) = in_n.get_mut(&i) {
                    *n += 1;
                }
            }
        }
    }
    let op_total: usize = op_n.values().sum();
    let in_total: usize = in_n.values().sum();
    let ops_exp = op_n.iter().filter(|(_, &n)| (n as f64) < op_total as f64 / (5.0 * ops.len() as f64)).map(|(&o, _)| o).collect();
    let in_exp = in_n.iter().filter(|(_, &n)| (n as f64) < in_total as f64 / (5.0 * inputs.len() as f64)).map(|(&i, _)| i).collect();
    (ops_exp, in_exp)
}

/// Usage counts of the exploration sets' members inside the exploration front.
struct Counter<T: Ord> {
    n: BTreeMap<T, usize>,
}

impl<T: Ord + Copy> Counter<T> {
    fn new(keys: &[T]) -> Self {
        Counter { n: keys.iter().map(|&k| (k, 0)).collect() }
    }
    fn total(&self) -> usize {
        self.n.values().sum()
    }
    /// +1 for a member of the set, +2 more if it is used at most the set's mean, +1 with the bonus.
    fn score(&self, el: T, bonus: bool) -> f64 {
        let Some(&c) = self.n.get(&el) else { return 0.0 };
        let total = self.total();
        let mut s = 1.0;
        if total == 0 || c as f64 <= total as f64 / self.n.len() as f64 {
            s += 2.0;
        }
        if bonus {
            s += 1.0;
        }
        s
    }
    fn add(&mut self, el: T) {
        if let Some(c) = self.n.get_mut(&el) {
            *c += 1;
        }
    }
}

/// The exploration Pareto front (§3.2, the authors' `has_sufficient_exploration_score`): walking
/// the expansions by decreasing predicted accuracy (the most accurate one skipped, it heads the
/// front), a cell not already `taken`, faster than the last cell of the exploration front, joins
/// it when its exploration score reaches 8 (4 when one exploration set is empty); at most `j`.
/// Score: per input slot in the input set and per op slot in the op set, +1, +2 if that member is
/// used at most the mean of its set in the exploration front so far, +1 if its set is the less
/// used of the two (both when equal); a cell with a positive score and a non-empty front gets
/// `(1 - a / a_last) / 0.04 + (1 - t / t_last) / 0.10` more. (The authors' code scores `op1`
/// twice and never `op2`; the paper counts every operator, and so does this.)
pub fn exploration_front(s: &[Scored], order: &[usize], taken: &HashSet<usize>, ops_exp: &[u32], in_exp: &[i64], j: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    if ops_exp.is_empty() && in_exp.is_empty() {
        return out;
    }
    let mut op_c = Counter::new(ops_exp);
    let mut in_c = Counter::new(in_exp);
    let threshold = if !ops_exp.is_empty() && !in_exp.is_empty() { 8.0 } else { 4.0 };
    let mut last = f64::INFINITY;
    for &i in order.iter().skip(1) {
        if out.len() >= j {
            break;
        }
        if taken.contains(&i) || s[i].time >= last {
            continue;
        }
        let (ot, it) = (op_c.total(), in_c.total());
        let (op_bonus, in_bonus) = (ot <= it, it <= ot);
        let mut score = 0.0;
        for b in &s[i].cell {
            for inp in b.inputs() {
                score += in_c.score(inp, in_bonus);
            }
            for op in b.ops() {
                score += op_c.score(op, op_bonus);
            }
        }
        if score > 0.0 {
            if let Some(&l) = out.last() {
                if s[l].acc != 0.0 {
                    score += (1.0 - s[i].acc / s[l].acc) / 0.04;
                }
                if s[l].time != 0.0 {
                    score += (1.0 - s[i].time / s[l].time) / 0.10;
                }
            }
        }
        if score >= threshold {
            out.push(i);
            last = s[i].time;
            for b in &s[i].cell {
                b.inputs().into_iter().for_each(|x| in_c.add(x));
                b.ops().into_iter().for_each(|x| op_c.add(x));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::cell::Block;
    use super::*;

    fn sc(acc: f64, time: f64, cell: Cell) -> Scored {
        Scored { cell, acc, time }
    }

    #[test]
    fn front_takes_ever_faster_cells() {
        let c = vec![Block(-1, 0, -1, 0)];
        let s = vec![sc(0.9, 10.0, c.clone()), sc(0.8, 12.0, c.clone()), sc(0.7, 5.0, c.clone()), sc(0.95, 20.0, c.clone()), sc(0.6, 5.0, c.clone())];
        let o = by_accuracy(&s);
        assert_eq!(o, vec![3, 0, 1, 2, 4]);
        assert_eq!(pareto_front(&s, &o, 10), vec![3, 0, 2]);
        assert_eq!(pareto_front(&s, &o, 2), vec![3, 0]);
        assert_eq!(top_k(&o, 2), vec![3, 0]);
    }

    #[test]
    fn exploration_sets_and_front() {
        // the front only uses op 0 and input -1
        let a = vec![Block(-1, 0, -1, 0)];
        let (ops, ins) = exploration_sets(&[&a, &a], &[0, 1, 2], &[-2, -1]);
        assert_eq!(ops, vec![1, 2]);
        assert_eq!(ins, vec![-2]);
        let s = vec![
            sc(0.9, 10.0, a.clone()),
            sc(0.85, 9.0, vec![Block(-2, 1, -2, 2)]), // score: inputs 2 x (1+2+1), ops 2 x (1+2+1) = 16
            sc(0.84, 9.5, vec![Block(-2, 1, -1, 0)]), // slower than the last taken
            sc(0.80, 8.0, vec![Block(-1, 0, -1, 0)]), // nothing to explore
            sc(0.79, 7.0, vec![Block(-2, 2, -1, 0)]),
        ];
        let o = by_accuracy(&s);
        let taken: HashSet<usize> = [0].into_iter().collect();
        let e = exploration_front(&s, &o, &taken, &ops, &ins, 5);
        assert_eq!(e, vec![1, 4]);
        assert_eq!(exploration_front(&s, &o, &taken, &ops, &ins, 1), vec![1]);
        assert!(exploration_front(&s, &o, &taken, &[], &[], 5).is_empty());
    }
}
