//! Candidate names: the canonical genotype string and template formats (a benchmark's own key).
use crate::decision::{Candidate, DecisionInfo, DecisionKind, Slot};
use crate::deps::Deps;
use crate::factors::lit_holds;
use crate::ids::DecisionId;
use crate::program::Program;
use nasc_grammar::ast::StrLit;
use nasc_grammar::diag::{did_you_mean, Diagnostic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Display,
    Index,
    Index1,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Dec(DecisionId, Style),
}

/// A naming format from a `name NAME = "template";` item.
#[derive(Debug, Clone)]
pub struct NameFormat {
    pub name: String,
    pub template: String,
    segs: Vec<Seg>,
}

fn bad(t: &StrLit, msg: String) -> Diagnostic {
    Diagnostic::error("E0701", msg, t.span, "in this name template")
        .with_help("placeholders look like `{edge[0]}`, `{layer[2]:index}` or `{w[*]:index1}`")
}

impl NameFormat {
    pub fn parse(
        name: &str,
        t: &StrLit,
        prog: &Program,
        decisions: &[DecisionInfo],
    ) -> Result<NameFormat, Diagnostic> {
        let mut segs = Vec::new();
        let mut lit = String::new();
        let chars: Vec<char> = t.value.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '{' && chars.get(i + 1) == Some(&'{') {
                lit.push('{');
                i += 2;
                continue;
            }
            if c == '}' && chars.get(i + 1) == Some(&'}') {
                lit.push('}');
                i += 2;
                continue;
            }
            if c == '}' {
                return Err(bad(
                    t,
                    "unmatched `}` in name template (write `}}` for a literal brace)".into(),
                ));
            }
            if c != '{' {
                lit.push(c);
                i += 1;
                continue;
            }
            let end = chars[i..]
                .iter()
                .position(|x| *x == '}')
                .map(|p| p + i)
                .ok_or_else(|| bad(t, "unclosed `{` in name template".into()))?;
            let inner: String = chars[i + 1..end].iter().collect();
            i = end + 1;
            if !lit.is_empty() {
                segs.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            let (target, style) = match inner.split_once(':') {
                Some((a, "index")) => (a.to_string(), Style::Index),
                Some((a, "index1")) => (a.to_string(), Style::Index1),
                Some((_, s)) => {
                    return Err(bad(
                        t,
                        format!("unknown placeholder style `{s}` (expected `index` or `index1`)"),
                    ))
                }
                None => (inner.clone(), Style::Display),
            };
            let fam_name: String = target.chars().take_while(|c| *c != '[').collect();
            let fam = prog.families.get(fam_name.trim()).ok_or_else(|| {
                bad(
                    t,
                    format!("`{}` in the template is not a decision", fam_name.trim()),
                )
            })?;
            let rest = &target[fam_name.len()..];
            let ids: Vec<DecisionId> = if rest == "[*]" {
                let mut inst: Vec<(&Vec<i64>, &DecisionId)> = fam.instances.iter().collect();
                inst.sort();
                inst.into_iter().map(|(_, d)| *d).collect()
            } else {
                let mut idx = Vec::new();
                let mut r = rest;
                while let Some(s) = r.strip_prefix('[') {
                    let close = s
                        .find(']')
                        .ok_or_else(|| bad(t, format!("bad index in `{target}`")))?;
                    idx.push(
                        s[..close]
                            .trim()
                            .parse::<i64>()
                            .map_err(|_| bad(t, format!("bad index in `{target}`")))?,
                    );
                    r = &s[close + 1..];
                }
                if !r.is_empty() {
                    return Err(bad(t, format!("bad placeholder `{target}`")));
                }
                vec![*fam
                    .instances
                    .get(&idx)
                    .ok_or_else(|| bad(t, format!("`{target}` is not a decision of this space")))?]
            };
            for d in ids {
                if decisions[d.index()].is_subset() {
                    return Err(bad(t, format!("`{}` is a subset; templates name choices only (subsets use the canonical form)", decisions[d.index()].name)));
                }
                segs.push(Seg::Dec(d, style));
            }
        }
        if !lit.is_empty() {
            segs.push(Seg::Lit(lit));
        }
        for d in decisions {
            if !segs
                .iter()
                .any(|s| matches!(s, Seg::Dec(x, _) if *x == d.id))
            {
                return Err(bad(
                    t,
                    format!(
                        "the template does not mention decision `{}`, so names would be ambiguous",
                        d.name
                    ),
                ));
            }
        }
        let f = NameFormat {
            name: name.to_string(),
            template: t.value.clone(),
            segs,
        };
        if let Some((a, b, text)) = f.collision(decisions) {
            return Err(bad(
                t,
                format!("the template prints two candidates the same way: `{}` and `{}` are both named `{text}`", canonical(&a, decisions), canonical(&b, decisions)),
            )
            .with_help("put a separator between placeholders, e.g. `{w[0]}-{w[1]}`, or use `:index`"));
        }
        Ok(f)
    }

    fn show(d: &DecisionInfo, s: Slot, style: Style) -> String {
        match (s, &d.kind, style) {
            (Slot::Opt(v), DecisionKind::Choice { options, .. }, Style::Display) => options
                .get(v as usize)
                .map(|o| o.display())
                .unwrap_or_default(),
            (Slot::Opt(v), _, Style::Index) => v.to_string(),
            (Slot::Opt(v), _, Style::Index1) => (v + 1).to_string(),
            _ => String::new(),
        }
    }

    /// The candidate's name; a candidate that prints nothing is named [`EMPTY_NAME`].
    pub fn print(&self, c: &Candidate, decisions: &[DecisionInfo]) -> String {
        let mut out = String::new();
        for s in &self.segs {
            match s {
                Seg::Lit(l) => out.push_str(l),
                Seg::Dec(d, st) => {
                    out.push_str(&Self::show(&decisions[d.index()], c.0[d.index()], *st))
                }
            }
        }
        if out.is_empty() {
            out.push_str(EMPTY_NAME);
        }
        out
    }

    /// Read `text` in this format: every reading whose candidate passes `valid` (up to `limit`
    /// distinct ones), with the existence of conditional decisions decided from the `when`
    /// results (`when[d]`: `None` for an unconditional decision) and the decisions read so far.
    fn read(
        &self,
        text: &str,
        decisions: &[DecisionInfo],
        when: &[WhenRows],
        valid: &dyn Fn(&Candidate) -> Result<(), String>,
        limit: usize,
        prune: bool,
    ) -> Reading {
        // the fewest and most bytes segments `k..` can print
        let mut span = vec![(0usize, 0usize); self.segs.len() + 1];
        for (k, seg) in self.segs.iter().enumerate().rev() {
            let (lo, hi) = match seg {
                Seg::Lit(l) => (l.len(), l.len()),
                Seg::Dec(d, st) => {
                    let info = &decisions[d.index()];
                    let lens =
                        (0..info.arity() as u32).map(|v| Self::show(info, Slot::Opt(v), *st).len());
                    let lo = if info.conditional {
                        0
                    } else {
                        lens.clone().min().unwrap_or(0)
                    };
                    (lo, lens.max().unwrap_or(0))
                }
            };
            span[k] = (span[k + 1].0 + lo, span[k + 1].1.saturating_add(hi));
        }
        let mut r = Reader {
            span: if prune { span } else { Vec::new() },
            segs: &self.segs,
            decisions,
            when,
            valid,
            text,
            slots: vec![None; decisions.len()],
            budget: READ_BUDGET,
            limit,
            out: Reading {
                found: Vec::new(),
                far: 0,
                expected: Vec::new(),
                invalid: None,
                exhausted: false,
            },
        };
        r.go(0, 0);
        r.out
    }

    /// The alternatives each segment prints (a literal: one; a conditional decision: its
    /// options and the empty string of its absence).
    fn alternatives(&self, decisions: &[DecisionInfo]) -> Vec<Vec<Vec<u8>>> {
        self.segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => vec![l.as_bytes().to_vec()],
                Seg::Dec(d, st) => {
                    let info = &decisions[d.index()];
                    let mut alts: Vec<Vec<u8>> = (0..info.arity() as u32)
                        .map(|v| Self::show(info, Slot::Opt(v), *st).into_bytes())
                        .collect();
                    if info.conditional {
                        alts.push(Vec::new());
                    }
                    alts
                }
            })
            .collect()
    }

    /// Two distinct candidates this format prints the same way, if the template's automaton
    /// finds a string with two readings and both readings are candidates. Exact for templates
    /// over unconditional decisions; `None` for others (their names are checked when read).
    fn collision(&self, decisions: &[DecisionInfo]) -> Option<(Candidate, Candidate, String)> {
        if decisions.iter().any(|d| d.conditional || d.is_subset()) {
            return None;
        }
        let text = String::from_utf8(ambiguous_text(&self.alternatives(decisions))?).ok()?;
        let text = if text.is_empty() {
            EMPTY_NAME.to_string()
        } else {
            text
        };
        let mut r = self.read(&text, decisions, &[], &|_| Ok(()), 2, true);
        if text == EMPTY_NAME {
            r.found
                .extend(self.read("", decisions, &[], &|_| Ok(()), 2, true).found);
        }
        match r.found.as_slice() {
            [a, b, ..] if a != b => Some((a.clone(), b.clone(), text)),
            _ => None,
        }
    }
}

/// The name of a candidate that would print as the empty string (a space without decisions).
pub const EMPTY_NAME: &str = "-";

/// Steps one name reading may take (a template whose readings branch a lot is refused).
const READ_BUDGET: u32 = 1_000_000;

/// The `when` results of a decision: `(context, exists)` rows over earlier decisions.
pub type WhenRows = Option<Vec<(Deps, bool)>>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Lit(String),
    Dec(DecisionId, Style),
    End,
    /// Reading decision `.0` as `.1` contradicts the `when` of decision `.2`, read before it.
    Guard(DecisionId, Slot, DecisionId),
}

/// The outcome of reading a name in one format.
struct Reading {
    /// Distinct valid candidates read (at most the reader's limit).
    found: Vec<Candidate>,
    /// The furthest byte offset a reading reached before failing, and what it expected there.
    far: usize,
    expected: Vec<Expect>,
    /// A complete reading that is not a valid candidate, and why.
    invalid: Option<(Candidate, String)>,
    /// Whether the step budget ran out before all readings were tried.
    exhausted: bool,
}

struct Reader<'a> {
    /// The fewest and most bytes segments `k..` print; empty: no pruning by length (the
    /// reading that reports where a name fails tries every branch).
    span: Vec<(usize, usize)>,
    segs: &'a [Seg],
    decisions: &'a [DecisionInfo],
    when: &'a [WhenRows],
    valid: &'a dyn Fn(&Candidate) -> Result<(), String>,
    text: &'a str,
    /// `None`: not read yet; `Some(Slot::Absent)`: read as absent.
    slots: Vec<Option<Slot>>,
    budget: u32,
    limit: usize,
    out: Reading,
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
            None => {
                return if self.decisions[d].conditional {
                    None
                } else {
                    Some(true)
                }
            }
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
                self.fail(
                    pos,
                    Expect::Guard(self.decisions[d].id, slot, self.decisions[e].id),
                );
                false
            }
            None => true,
        }
    }

    fn finish(&mut self) {
        let c = Candidate(
            self.slots
                .iter()
                .map(|s| s.unwrap_or(Slot::Absent))
                .collect(),
        );
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
    fn go(&mut self, k: usize, pos: usize) -> bool {
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
                        let stop = (prev.is_some() || self.consistent(i, pos))
                            && self.go(k + 1, pos + shown.len());
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
fn ambiguous_text(alts: &[Vec<Vec<u8>>]) -> Option<Vec<u8>> {
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
    let mut parent: std::collections::HashMap<Node, Option<(Node, u8)>> =
        std::collections::HashMap::new();
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
                    advance(a)
                        .into_iter()
                        .flat_map(|x| bs.iter().map(move |y| (pair(x, *y), c)))
                        .collect()
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
    let tok: String = if word(first) {
        rest.chars().take_while(|c| word(*c)).collect()
    } else {
        first.to_string()
    };
    Some(if tok.chars().count() > 24 {
        format!("{}...", tok.chars().take(24).collect::<String>())
    } else {
        tok
    })
}

/// Why `text` is not a name in format `f`: the byte offset, what was found and what the format
/// expected there (with a "did you mean" among a decision's options).
fn explain_failure(text: &str, r: &Reading, decisions: &[DecisionInfo]) -> String {
    if r.expected.is_empty() {
        if let Some((c, e)) = &r.invalid {
            return format!(
                "it reads as `{}`, which is not a candidate of this space: {e}",
                canonical(c, decisions)
            );
        }
    }
    let found = match token_at(text, r.far) {
        Some(t) => format!("`{t}`"),
        None => "the end of the name".to_string(),
    };
    let mut wants = Vec::new();
    let mut hint = None;
    for e in &r.expected {
        match e {
            Expect::Lit(l) => wants.push(format!("`{l}`")),
            Expect::End => wants.push("the end of the name".to_string()),
            Expect::Guard(d, slot, e) => {
                let (d, e) = (&decisions[d.index()], &decisions[e.index()]);
                let what = match slot {
                    Slot::Absent => format!("`{}` absent", d.name),
                    s => format!("`{}={}`", d.name, show_slot(d, *s)),
                };
                wants.push(format!("a value that agrees with the decisions read before it ({what} contradicts the `when` of `{}`)", e.name));
            }
            Expect::Dec(d, st) => {
                let info = &decisions[d.index()];
                let shown: Vec<String> = (0..info.arity() as u32)
                    .map(|v| NameFormat::show(info, Slot::Opt(v), *st))
                    .collect();
                if hint.is_none() {
                    if let Some(t) = token_at(text, r.far) {
                        hint = did_you_mean(&t, shown.iter().map(String::as_str))
                            .filter(|m| *m != t)
                            .map(str::to_string);
                    }
                }
                let list: Vec<String> = shown.iter().map(|s| format!("`{s}`")).collect();
                wants.push(format!("a value of `{}` ({})", info.name, list.join(", ")));
            }
        }
    }
    let mut msg = format!(
        "at byte {} found {found}, expected {}",
        r.far,
        wants.join(" or ")
    );
    if let Some(h) = hint {
        msg.push_str(&format!("; did you mean `{h}`?"));
    }
    msg
}

fn ambiguity(
    text: &str,
    f: &NameFormat,
    found: &[Candidate],
    decisions: &[DecisionInfo],
) -> String {
    let names: Vec<String> = found
        .iter()
        .map(|c| format!("`{}`", canonical(c, decisions)))
        .collect();
    format!(
        "`{text}` is ambiguous in the `{}` format: it names {} (write the canonical form instead)",
        f.name,
        names.join(" and ")
    )
}

/// Parse a name in any of `formats` (in order) or the canonical form; `valid` checks a
/// candidate. A name with two readings in a format is refused with both candidates.
pub fn parse_name(
    text: &str,
    formats: &[NameFormat],
    decisions: &[DecisionInfo],
    when: &[WhenRows],
    valid: &dyn Fn(&Candidate) -> Result<(), String>,
) -> Result<Candidate, String> {
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
            return Err(format!("`{text}` has too many readings in the `{}` format to check that it names one candidate (write the canonical form instead)", f.name));
        }
        if let Some(c) = r.found.pop() {
            return Ok(c);
        }
    }
    let c = parse_canonical(text, decisions).map_err(|e| match formats.first() {
        Some(f) => {
            // where the name fails in the first format: every branch tried, none pruned by length
            let why = explain_failure(text, &f.read(text, decisions, when, valid, 1, false), decisions);
            format!("`{text}` matches neither the `{}` format nor the canonical form: {why} (as a canonical name: {e})", f.name)
        }
        None => e,
    })?;
    valid(&c)?;
    Ok(c)
}

fn show_slot(d: &DecisionInfo, s: Slot) -> String {
    match (&d.kind, s) {
        (DecisionKind::Choice { options, .. }, Slot::Opt(v)) => options[v as usize].display(),
        (DecisionKind::Subset { pool, .. }, Slot::Members(m)) => {
            let names: Vec<String> = (0..pool.len())
                .filter(|j| (m >> j) & 1 == 1)
                .map(|j| pool[j].display())
                .collect();
            format!("{{{}}}", names.join("+"))
        }
        _ => String::new(),
    }
}

/// The canonical genotype string: `d=v` for each existing decision, comma separated; a
/// candidate without decisions is [`EMPTY_NAME`].
pub fn canonical(c: &Candidate, decisions: &[DecisionInfo]) -> String {
    let s = decisions
        .iter()
        .filter(|d| c.0[d.index()] != Slot::Absent)
        .map(|d| format!("{}={}", d.name, show_slot(d, c.0[d.index()])))
        .collect::<Vec<_>>()
        .join(",");
    if s.is_empty() {
        EMPTY_NAME.to_string()
    } else {
        s
    }
}

/// Parse the canonical form. Errors name what is wrong.
pub fn parse_canonical(text: &str, decisions: &[DecisionInfo]) -> Result<Candidate, String> {
    let mut slots = vec![Slot::Absent; decisions.len()];
    if text.trim() == EMPTY_NAME {
        return Ok(Candidate(slots));
    }
    let mut seen = vec![false; decisions.len()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in text.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("`{p}` is not `decision=value`"))?;
        let k = k.trim();
        let d = decisions.iter().find(|d| d.name == k).ok_or_else(|| {
            match did_you_mean(k, decisions.iter().map(|d| d.name.as_str())) {
                Some(m) => format!("unknown decision `{k}`; did you mean `{m}`?"),
                None => format!("unknown decision `{k}`"),
            }
        })?;
        if seen[d.index()] {
            return Err(format!("decision `{}` given twice", d.name));
        }
        seen[d.index()] = true;
        let v = v.trim();
        slots[d.index()] = match &d.kind {
            DecisionKind::Choice { options, .. } => Slot::Opt(
                options
                    .iter()
                    .position(|o| o.display() == v)
                    .ok_or_else(|| {
                        let shown: Vec<String> = options.iter().map(|o| o.display()).collect();
                        let hint = did_you_mean(v, shown.iter().map(String::as_str))
                            .map(|m| format!("; did you mean `{m}`?"))
                            .unwrap_or_default();
                        format!(
                            "`{v}` is not an option of `{}` ({}){hint}",
                            d.name,
                            shown
                                .iter()
                                .map(|o| format!("`{o}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })? as u32,
            ),
            DecisionKind::Subset { pool, .. } => {
                let inner = v
                    .strip_prefix('{')
                    .and_then(|x| x.strip_suffix('}'))
                    .ok_or_else(|| format!("subset `{}` must be written `{{a+b}}`", d.name))?;
                let mut m = 0u64;
                for name in inner.split('+').map(str::trim).filter(|s| !s.is_empty()) {
                    let j = pool
                        .iter()
                        .position(|o| o.display() == name)
                        .ok_or_else(|| format!("`{name}` is not in the pool of `{}`", d.name))?;
                    m |= 1 << j;
                }
                Slot::Members(m)
            }
        };
    }
    Ok(Candidate(slots))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{compile, NoFiles, Options, Space};

    const NET: &str = "input [3, 8, 8];\nnetwork { return input |> conv(4, 1); }\n";

    fn build(decls: &str) -> Result<Space, Vec<String>> {
        let text = format!("{decls}\n{NET}");
        let (spec, diags) = nasc_grammar::parse(&text);
        assert!(diags.is_empty(), "{diags:?}");
        let opts = Options {
            overrides: Vec::new(),
            loader: &NoFiles,
            default_name: "t".into(),
        };
        let (space, diags) = compile(&spec, &opts);
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        match space {
            Some(s) if errors.is_empty() => Ok(s),
            _ => Err(errors),
        }
    }

    fn errors(decls: &str) -> Vec<String> {
        build(decls).err().expect("compile errors")
    }

    fn space(decls: &str) -> Space {
        build(decls).unwrap_or_else(|e| panic!("{decls}: {e:?}"))
    }

    /// Every valid candidate of a small space (by brute force over the slots).
    fn all(s: &Space) -> Vec<Candidate> {
        let mut out = vec![Candidate(Vec::new())];
        for d in &s.decisions {
            let mut vals = vec![Slot::Absent];
            match &d.kind {
                DecisionKind::Choice { options, .. } => {
                    vals.extend((0..options.len() as u32).map(Slot::Opt))
                }
                DecisionKind::Subset { pool, .. } => {
                    vals.extend((0..1u64 << pool.len()).map(Slot::Members))
                }
            }
            out = out
                .into_iter()
                .flat_map(|c| {
                    vals.iter()
                        .map(move |v| Candidate(c.0.iter().copied().chain([*v]).collect()))
                })
                .collect();
        }
        out.retain(|c| s.check_valid(c).is_ok());
        out
    }

    #[test]
    fn conditional_families_parse_back() {
        // the example: k[0][1] absent, k[1][1] present
        let s = space("choice d[u in 0..2] in [1, 2]; choice k[u in 0..2][j in 0..2] in [3, 5] when d[u] > j; name a = \"{d[*]}{k[*]}\";");
        let c = s.parse_name("12533").expect("parses");
        assert_eq!(
            s.canonical(&c),
            "d[0]=1,d[1]=2,k[0][0]=5,k[1][0]=3,k[1][1]=3"
        );
        let cands = all(&s);
        assert_eq!(cands.len().to_string(), s.size.to_string());
        for c in &cands {
            assert_eq!(&s.parse_name(&s.name_of(c)).expect("round trip"), c);
        }
    }

    #[test]
    fn guards_on_later_placeholders_are_checked_at_the_end() {
        // the conditional family printed before the decision that guards it
        let s = space("choice d[u in 0..2] in [1, 2]; choice k[u in 0..2][j in 0..2] in [3, 5] when d[u] > j; name a = \"{k[*]}{d[*]}\";");
        for c in all(&s) {
            let n = s.name_of(&c);
            assert_eq!(s.parse_name(&n).expect("round trip"), c, "{n}");
        }
        assert_eq!(
            s.canonical(&s.parse_name("35312").unwrap()),
            "d[0]=1,d[1]=2,k[0][0]=3,k[1][0]=5,k[1][1]=3"
        );
        let e = s.parse_name("35311").unwrap_err();
        assert!(e.contains("matches neither"), "{e}");
    }

    #[test]
    fn ambiguous_formats_are_refused_at_compile_time() {
        let e = errors("choice w[2] in [1, 11]; name n = \"{w[*]}\";");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("E0701 the template prints two candidates the same way"),
            "{e:?}"
        );
        assert!(
            e[0].contains("`w[0]=1,w[1]=11`")
                && e[0].contains("`w[0]=11,w[1]=1`")
                && e[0].contains("named `111`"),
            "{e:?}"
        );
        // an option that is a prefix of another, an empty option, and a separator that makes it injective
        let e =
            errors("choice a in [\"x\", \"xy\"]; choice b in [\"y\", \"\"]; name n = \"{a}{b}\";");
        assert!(
            e[0].contains("`a=x,b=y` and `a=xy,b=` are both named `xy`"),
            "{e:?}"
        );
        let e = errors("choice a in [1, 11]; choice b in [\"\", \"1\"]; name n = \"{a}{b}\";");
        assert!(e[0].contains("the same way"), "{e:?}");
        let s = space("choice w[2] in [1, 11]; name n = \"{w[0]}-{w[1]}\";");
        for c in all(&s) {
            assert_eq!(s.parse_name(&s.name_of(&c)).unwrap(), c);
        }
        // injective without separators: prefix-free options
        space("choice w[3] in [1, 22, 333]; name n = \"{w[*]}\";");
        space("choice w[3] in [3, 5, 7]; choice v in [10, 20]; name n = \"{w[*]}{v}\";");
    }

    #[test]
    fn ambiguous_names_are_refused_at_parse_time() {
        // conditional families are checked when a name is read: here `a=1` then `k[0]=1` (k
        // exists when a == 1) prints `11`, as does `a=11` (k absent)
        let s = space(
            "choice a in [1, 11]; choice k[1] in [1, 2] when a == 1; name n = \"{a}{k[*]}\";",
        );
        let e = s.parse_name("11").unwrap_err();
        assert!(e.contains("`11` is ambiguous in the `n` format"), "{e}");
        assert!(e.contains("`a=1,k[0]=1`") && e.contains("`a=11`"), "{e}");
        // the canonical form is always unambiguous, and unambiguous names still parse
        assert_eq!(s.canonical(&s.parse_name("a=11").unwrap()), "a=11");
        assert_eq!(s.canonical(&s.parse_name("12").unwrap()), "a=1,k[0]=2");
    }

    #[test]
    fn a_space_without_decisions_has_a_printable_name() {
        let s = space("");
        let c = s.default_candidate();
        assert_eq!(s.name_of(&c), EMPTY_NAME);
        assert_eq!(s.parse_name(EMPTY_NAME).unwrap(), c);
        assert_eq!(s.parse_name(" - ").unwrap(), c);
        // a template without placeholders prints itself; one that prints nothing is `-`
        let s = space("name n = \"base\";");
        assert_eq!(s.name_of(&c), "base");
        assert_eq!(s.parse_name("base").unwrap(), c);
        let s = space("name n = \"\";");
        assert_eq!(s.name_of(&c), EMPTY_NAME);
        assert_eq!(s.parse_name(EMPTY_NAME).unwrap(), c);
        // an option that prints as `-` is still told apart from the empty name
        let s = space("choice a in [\"-\", \"x\"]; name n = \"{a}\";");
        assert_eq!(s.canonical(&s.parse_name("-").unwrap()), "a=-");
    }

    #[test]
    fn wrong_names_point_at_the_bad_token() {
        let s = space("choice edge[2] in [\"none\", \"skip_connect\", \"nor_conv_3x3\"]; name arch = \"|{edge[0]}~0|+|{edge[1]}~0|\";");
        let e = s.parse_name("|nor_conv_3x4~0|+|none~0|").unwrap_err();
        assert!(
            e.contains("matches neither the `arch` format nor the canonical form"),
            "{e}"
        );
        assert!(e.contains("at byte 1 found `nor_conv_3x4`, expected a value of `edge[0]` (`none`, `skip_connect`, `nor_conv_3x3`)"), "{e}");
        assert!(e.contains("did you mean `nor_conv_3x3`?"), "{e}");
        // a wrong literal
        let e = s.parse_name("|none~1|+|none~0|").unwrap_err();
        assert!(e.contains("at byte 5 found `~`, expected `~0|+|`"), "{e}");
        // trailing text and a name cut short
        let e = s.parse_name("|none~0|+|none~0|x").unwrap_err();
        assert!(
            e.contains("at byte 17 found `x`, expected the end of the name"),
            "{e}"
        );
        let e = s.parse_name("|none~0|+|").unwrap_err();
        assert!(
            e.contains("at byte 10 found the end of the name, expected a value of `edge[1]`"),
            "{e}"
        );
        // canonical names get hints too
        let e = s
            .parse_name("edge[0]=nor_conv_3x4,edge[1]=none")
            .unwrap_err();
        assert!(
            e.contains("`nor_conv_3x4` is not an option of `edge[0]`")
                && e.contains("did you mean `nor_conv_3x3`?"),
            "{e}"
        );
        let e = s.parse_name("edeg[0]=none,edge[1]=none").unwrap_err();
        assert!(
            e.contains("unknown decision `edeg[0]`; did you mean `edge[0]`?"),
            "{e}"
        );
        // a reading that breaks a guard says so
        let s =
            space("choice d in [1, 2]; choice k[2] in [3, 5] when d > 1; name a = \"{k[*]}:{d}\";");
        let e = s.parse_name("35:1").unwrap_err();
        assert!(e.contains("at byte 3 found `1`, expected a value that agrees with the decisions read before it (`d=1` contradicts the `when` of `k[0]`)"), "{e}");
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn highly_ambiguous_templates_run_out_of_budget_with_an_error() {
        // 40 decisions printed before the one that guards them: until `n` is read each may be
        // present or absent, so twenty `1`s have C(40, 20) readings
        let s = space(
            "choice n in [0, 1]; choice w[40] in [\"1\"] when n == 1; name f = \"{w[*]}:{n}\";",
        );
        let e = s.parse_name(&format!("{}:0", "1".repeat(20))).unwrap_err();
        assert!(e.contains("has too many readings in the `f` format"), "{e}");
        // lengths prune the readings of a valid name: forty `1`s are forty present decisions
        let name = format!("{}:1", "1".repeat(40));
        let c = s.parse_name(&name).unwrap();
        assert_eq!(s.name_of(&c), name);
        assert_eq!(s.canonical(&s.parse_name(":0").unwrap()), "n=0");
    }

    #[test]
    fn the_automaton_finds_collisions_between_segments() {
        let alts = |v: &[&[&str]]| {
            v.iter()
                .map(|s| s.iter().map(|x| x.as_bytes().to_vec()).collect())
                .collect::<Vec<Vec<Vec<u8>>>>()
        };
        assert_eq!(
            ambiguous_text(&alts(&[&["1", "11"], &["1", "11"]])),
            Some(b"111".to_vec())
        );
        assert_eq!(
            ambiguous_text(&alts(&[&["1", "11"], &["-"], &["1", "11"]])),
            None
        );
        assert_eq!(
            ambiguous_text(&alts(&[&["ab", "a"], &["bc", "c"]])),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            ambiguous_text(&alts(&[&["", "x"], &["x", ""]])),
            Some(b"x".to_vec())
        );
        assert_eq!(
            ambiguous_text(&alts(&[&["0", "10", "110"], &["0", "10", "110"]])),
            None
        );
    }
}
