//! Reading names back: a template read left to right with the `when` guards of conditional
//! families (backtracking over the decisions read so far), ambiguity refused with both
//! candidates, the E0701 search for a string with two readings, and error positions.
use super::*;
use crate::decision::{Candidate, DecisionInfo, Slot};
use crate::deps::Deps;
use crate::error::{Expected, Mismatch};
use crate::factors::lit_holds;
use crate::ids::DecisionId;
use nasc_grammar::diag::did_you_mean;

/// The name of a candidate that would print as the empty string (a space without decisions).
pub const EMPTY_NAME: &str = "-";

/// Steps one name reading may take (a template whose readings branch a lot is refused).
pub(super) const READ_BUDGET: u32 = 1_000_000;

/// The `when` results of a decision: `(context, exists)` rows over earlier decisions.
pub type WhenRows = Option<Vec<(Deps, bool)>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expect {
    Lit(String),
    Dec(DecisionId, Style),
    End,
    /// Reading decision `.0` as `.1` contradicts the `when` of decision `.2`, read before it.
    Guard(DecisionId, Slot, DecisionId),
}

/// The outcome of reading a name in one format.
pub(super) struct Reading {
    /// Distinct valid candidates read (at most the reader's limit).
    pub(super) found: Vec<Candidate>,
    /// The furthest byte offset a reading reached before failing, and what it expected there.
    pub(super) far: usize,
    pub(super) expected: Vec<Expect>,
    /// A complete reading that is not a valid candidate, and why.
    pub(super) invalid: Option<(Candidate, CandidateError)>,
    /// Whether the step budget ran out before all readings were tried.
    pub(super) exhausted: bool,
}

pub(super) struct Reader<'a> {
    /// The fewest and most bytes segments `k..` print; empty: no pruning by length (the
    /// reading that reports where a name fails tries every branch).
    pub(super) span: Vec<(usize, usize)>,
    pub(super) segs: &'a [Seg],
    pub(super) decisions: &'a [DecisionInfo],
    pub(super) when: &'a [WhenRows],
    pub(super) valid: &'a dyn Fn(&Candidate) -> Result<(), CandidateError>,
    pub(super) text: &'a str,
    /// `None`: not read yet; `Some(Slot::Absent)`: read as absent.
    pub(super) slots: Vec<Option<Slot>>,
    pub(super) budget: u32,
    pub(super) limit: usize,
    pub(super) out: Reading,
}

impl Reader<'_> {
    fn done(&self) -> bool {
        self.out.found.len() >= self.limit || self.out.exhausted
    }

    fn fail(&mut self, at: usize, e: Expect) {
        if at > self.out.far {
            self.out.far = at;
            self.out.expected.clear();
        }
        if at == self.out.far && !self.out.expected.contains(&e) {
            self.out.expected.push(e);
        }
    }

    /// Whether decision `d` exists given the slots read so far: `None` while it depends on
    /// decisions not read yet.
    fn exists(&self, d: usize) -> Option<bool> {
        let rows = match self.when.get(d) {
            Some(Some(rows)) => rows,
            Some(None) => return Some(true),
            None => return if self.decisions[d].conditional { None } else { Some(true) },
        };
        let (mut yes, mut no) = (false, false);
        for (ctx, holds) in rows {
            // whether the row's context holds: Some(true/false), or None while unknown
            let mut state = Some(true);
            for l in &ctx.0 {
                match self.slots.get(l.decision().index()).copied().flatten() {
                    Some(s) if !lit_holds(l, s) => {
                        state = Some(false);
                        break;
                    }
                    Some(_) => {}
                    None => state = None,
                }
            }
            match state {
                Some(false) => continue,
                Some(true) => {
                    *if *holds { &mut yes } else { &mut no } = true;
                    return if yes && no { None } else { Some(yes) };
                }
                None => *if *holds { &mut yes } else { &mut no } = true,
            }
        }
        no = true; // no row holds: the decision does not exist
        if yes && no {
            None
        } else {
            Some(yes)
        }
    }

    /// Whether the decisions read so far agree with their guards, now that `d` was read at
    /// byte `pos`; a disagreement is recorded as a failure there.
    fn consistent(&mut self, d: usize, pos: usize) -> bool {
        let bad = (d + 1..self.slots.len()).find(|&e| match (self.slots[e], self.when.get(e)) {
            (Some(s), Some(Some(_))) => self.exists(e).is_some_and(|x| x != (s != Slot::Absent)),
            _ => false,
        });
        match bad {
            Some(e) => {
                let slot = self.slots[d].unwrap_or(Slot::Absent);
                self.fail(pos, Expect::Guard(self.decisions[d].id, slot, self.decisions[e].id));
                false
            }
            None => true,
        }
    }

    fn finish(&mut self) {
        let c = Candidate(self.slots.iter().map(|s| s.unwrap_or(Slot::Absent)).collect());
        match (self.valid)(&c) {
            Ok(()) => {
                if !self.out.found.contains(&c) {
                    self.out.found.push(c);
                }
            }
            Err(e) => {
                if self.out.invalid.is_none() {
                    self.out.invalid = Some((c, e));
                }
            }
        }
    }

    /// Try the readings of segments `k..` at byte `pos`; true once the reading is to stop.
    pub(super) fn go(&mut self, k: usize, pos: usize) -> bool {
        if self.done() {
            return true;
        }
        if self.budget == 0 {
            self.out.exhausted = true;
            return true;
        }
        self.budget -= 1;
        let segs = self.segs;
        let rest = &self.text[pos..];
        if let Some((lo, hi)) = self.span.get(k) {
            if rest.len() < *lo || rest.len() > *hi {
                return false;
            }
        }
        match segs.get(k) {
            None => {
                if rest.is_empty() {
                    self.finish();
                } else {
                    self.fail(pos, Expect::End);
                }
                self.done()
            }
            Some(Seg::Lit(l)) => {
                if rest.starts_with(l.as_str()) {
                    self.go(k + 1, pos + l.len())
                } else {
                    self.fail(pos, Expect::Lit(l.clone()));
                    false
                }
            }
            Some(Seg::Dec(d, st)) => {
                let i = d.index();
                let info = &self.decisions[i];
                let prev = self.slots[i];
                let exists = match prev {
                    Some(Slot::Absent) => Some(false),
                    Some(_) => Some(true),
                    None => self.exists(i),
                };
                if exists != Some(false) {
                    let mut missed = false;
                    for v in 0..info.arity() as u32 {
                        if prev.is_some_and(|p| p != Slot::Opt(v)) {
                            continue;
                        }
                        let shown = NameFormat::show(info, Slot::Opt(v), *st);
                        if !rest.starts_with(shown.as_str()) {
                            missed = true;
                            continue;
                        }
                        self.slots[i] = Some(Slot::Opt(v));
                        let stop = (prev.is_some() || self.consistent(i, pos)) && self.go(k + 1, pos + shown.len());
                        self.slots[i] = prev;
                        if stop {
                            return true;
                        }
                    }
                    if missed {
                        self.fail(pos, Expect::Dec(*d, *st));
                    }
                }
                if exists != Some(true) && info.conditional {
                    self.slots[i] = Some(Slot::Absent);
                    let stop = (prev.is_some() || self.consistent(i, pos)) && self.go(k + 1, pos);
                    self.slots[i] = prev;
                    if stop {
                        return true;
                    }
                }
                false
            }
        }
    }
}

/// A string with two distinct readings in the automaton of `alts` (segments in order, each
/// one of its alternatives), if there is one: a breadth-first search over pairs of reading
/// positions that read the same bytes, the two runs in lockstep until they first choose
/// differently. `None` also when the template is too large to check.
pub(super) fn ambiguous_text(alts: &[Vec<Vec<u8>>]) -> Option<Vec<u8>> {
    type Pos = (u32, u32, u32); // segment, alternative, byte offset; END is (n, 0, 0)
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    enum Node {
        Same(Pos),
        Pair(Pos, Pos),
    }
    const MAX_BYTES: usize = 4096;
    const MAX_NODES: usize = 2_000_000;
    let n = alts.len();
    if alts.iter().flatten().map(Vec::len).sum::<usize>() > MAX_BYTES {
        return None;
    }
    let end: Pos = (n as u32, 0, 0);
    // enter[k]: the reading positions on entering segment k (through empty alternatives)
    let mut enter: Vec<Vec<Pos>> = vec![Vec::new(); n + 1];
    enter[n].push(end);
    for k in (0..n).rev() {
        let mut v = Vec::new();
        for (a, t) in alts[k].iter().enumerate() {
            if t.is_empty() {
                v.extend(enter[k + 1].iter().copied());
            } else {
                v.push((k as u32, a as u32, 0));
            }
        }
        v.sort_unstable();
        v.dedup();
        enter[k] = v;
    }
    let pair = |a: Pos, b: Pos| {
        if a <= b {
            Node::Pair(a, b)
        } else {
            Node::Pair(b, a)
        }
    };
    // lock[k]: the nodes on entering segment k with both runs still the same
    let mut lock: Vec<Vec<Node>> = vec![Vec::new(); n + 1];
    lock[n].push(Node::Same(end));
    for k in (0..n).rev() {
        let close = |a: usize| {
            if alts[k][a].is_empty() {
                enter[k + 1].clone()
            } else {
                vec![(k as u32, a as u32, 0)]
            }
        };
        let mut v = Vec::new();
        for x in 0..alts[k].len() {
            for y in x..alts[k].len() {
                if x == y {
                    if alts[k][x].is_empty() {
                        v.extend(lock[k + 1].iter().copied());
                    } else {
                        v.push(Node::Same((k as u32, x as u32, 0)));
                    }
                } else {
                    for pa in close(x) {
                        for pb in close(y) {
                            v.push(pair(pa, pb));
                        }
                    }
                }
            }
            if v.len() > MAX_NODES {
                return None;
            }
        }
        lock[k] = v;
    }
    let byte = |p: Pos| alts[p.0 as usize][p.1 as usize][p.2 as usize];
    let last = |p: Pos| p.2 as usize + 1 == alts[p.0 as usize][p.1 as usize].len();
    let advance = |p: Pos| {
        if last(p) {
            enter[p.0 as usize + 1].clone()
        } else {
            vec![(p.0, p.1, p.2 + 1)]
        }
    };
    let mut parent: std::collections::HashMap<Node, Option<(Node, u8)>> = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    for s in &lock[0] {
        if parent.insert(*s, None).is_none() {
            queue.push_back(*s);
        }
    }
    let found = Node::Pair(end, end);
    while let Some(node) = queue.pop_front() {
        if node == found {
            let mut bytes = Vec::new();
            let mut at = node;
            while let Some(Some((p, b))) = parent.get(&at) {
                bytes.push(*b);
                at = *p;
            }
            bytes.reverse();
            return Some(bytes);
        }
        let next: Vec<(Node, u8)> = match node {
            Node::Same(p) if p == end => Vec::new(),
            Node::Same(p) => {
                let b = byte(p);
                if last(p) {
                    lock[p.0 as usize + 1].iter().map(|x| (*x, b)).collect()
                } else {
                    vec![(Node::Same((p.0, p.1, p.2 + 1)), b)]
                }
            }
            Node::Pair(a, b) if a == end || b == end => Vec::new(),
            Node::Pair(a, b) => {
                let c = byte(a);
                if c != byte(b) {
                    Vec::new()
                } else {
                    let bs = advance(b);
                    advance(a).into_iter().flat_map(|x| bs.iter().map(move |y| (pair(x, *y), c))).collect()
                }
            }
        };
        for (m, b) in next {
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(m) {
                e.insert(Some((node, b)));
                queue.push_back(m);
            }
        }
        if parent.len() > MAX_NODES {
            return None;
        }
    }
    None
}

/// The token at byte `at` of `text`, for messages: a word (letters, digits, `_ . -`), else one
/// character; at most 24 characters.
fn token_at(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at..)?;
    let first = rest.chars().next()?;
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-');
    let tok: String = if word(first) { rest.chars().take_while(|c| word(*c)).collect() } else { first.to_string() };
    Some(if tok.chars().count() > 24 { format!("{}...", tok.chars().take(24).collect::<String>()) } else { tok })
}

/// Why `text` is not a name in format `f`: the byte offset, what was found and what the format
/// expected there (with a "did you mean" among a decision's options).
fn explain_failure(text: &str, r: &Reading, decisions: &[DecisionInfo]) -> Mismatch {
    if r.expected.is_empty() {
        if let Some((c, e)) = &r.invalid {
            return Mismatch::NotCandidate { reading: canonical(c, decisions), why: e.clone() };
        }
    }
    let found = token_at(text, r.far);
    let mut wants = Vec::new();
    let mut hint = None;
    for e in &r.expected {
        match e {
            Expect::Lit(l) => wants.push(Expected::Lit(l.clone())),
            Expect::End => wants.push(Expected::End),
            Expect::Guard(d, slot, e) => {
                let (d, e) = (&decisions[d.index()], &decisions[e.index()]);
                let value = match slot {
                    Slot::Absent => None,
                    s => Some(show_slot(d, *s)),
                };
                wants.push(Expected::Agreeing { decision: d.name.clone(), value, guard: e.name.clone() });
            }
            Expect::Dec(d, st) => {
                let info = &decisions[d.index()];
                let shown: Vec<String> = (0..info.arity() as u32).map(|v| NameFormat::show(info, Slot::Opt(v), *st)).collect();
                if hint.is_none() {
                    if let Some(t) = token_at(text, r.far) {
                        hint = did_you_mean(&t, shown.iter().map(String::as_str)).filter(|m| *m != t).map(str::to_string);
                    }
                }
                wants.push(Expected::Value { decision: info.name.clone(), options: shown });
            }
        }
    }
    Mismatch::At { byte: r.far, found, expected: wants, suggestion: hint }
}

fn ambiguity(text: &str, f: &NameFormat, found: &[Candidate], decisions: &[DecisionInfo]) -> NameError {
    NameError::Ambiguous { text: text.to_string(), format_name: f.name.clone(), readings: found.iter().map(|c| canonical(c, decisions)).collect() }
}

/// Parse a name in any of `formats` (in order) or the canonical form; `valid` checks a
/// candidate. A name with two readings in a format is refused with both candidates.
pub fn parse_name(
    text: &str,
    formats: &[NameFormat],
    decisions: &[DecisionInfo],
    when: &[WhenRows],
    valid: &dyn Fn(&Candidate) -> Result<(), CandidateError>,
) -> Result<Candidate, NameError> {
    let text = text.trim();
    for f in formats {
        let mut r = f.read(text, decisions, when, valid, 2, true);
        if text == EMPTY_NAME && r.found.len() < 2 && !r.exhausted {
            for c in f.read("", decisions, when, valid, 2, true).found {
                if !r.found.contains(&c) {
                    r.found.push(c);
                }
            }
        }
        if r.found.len() >= 2 {
            return Err(ambiguity(text, f, &r.found, decisions));
        }
        if r.exhausted {
            return Err(NameError::TooManyReadings { text: text.to_string(), format_name: f.name.clone() });
        }
        if let Some(c) = r.found.pop() {
            return Ok(c);
        }
    }
    let c = parse_canonical(text, decisions).map_err(|e| match formats.first() {
        Some(f) => {
            // where the name fails in the first format: every branch tried, none pruned by length
            let why = explain_failure(text, &f.read(text, decisions, when, valid, 1, false), decisions);
            NameError::NoMatch { text: text.to_string(), format_name: f.name.clone(), why: Box::new(why), canonical: Box::new(e) }
        }
        None => e,
    })?;
    valid(&c)?;
    Ok(c)
}
