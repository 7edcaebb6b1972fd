//! Candidate names: the canonical genotype string and template formats (a benchmark's own key).
use crate::decision::{Candidate, DecisionInfo, DecisionKind, Slot};
use crate::error::{CandidateError, NameError};
use crate::ids::DecisionId;
use crate::program::Program;
use nasc_grammar::ast::StrLit;
use nasc_grammar::diag::{did_you_mean, Diagnostic};

mod read;
use read::*;
pub use read::{parse_name, WhenRows, EMPTY_NAME};

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
    Diagnostic::error("E0701", msg, t.span, "in this name template").with_help("placeholders look like `{edge[0]}`, `{layer[2]:index}` or `{w[*]:index1}`")
}

impl NameFormat {
    pub fn parse(name: &str, t: &StrLit, prog: &Program, decisions: &[DecisionInfo]) -> Result<NameFormat, Diagnostic> {
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
                return Err(bad(t, "unmatched `}` in name template (write `}}` for a literal brace)".into()));
            }
            if c != '{' {
                lit.push(c);
                i += 1;
                continue;
            }
            let end = chars[i..].iter().position(|x| *x == '}').map(|p| p + i).ok_or_else(|| bad(t, "unclosed `{` in name template".into()))?;
            let inner: String = chars[i + 1..end].iter().collect();
            i = end + 1;
            if !lit.is_empty() {
                segs.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            let (target, style) = match inner.split_once(':') {
                Some((a, "index")) => (a.to_string(), Style::Index),
                Some((a, "index1")) => (a.to_string(), Style::Index1),
                Some((_, s)) => return Err(bad(t, format!("unknown placeholder style `{s}` (expected `index` or `index1`)"))),
                None => (inner.clone(), Style::Display),
            };
            let fam_name: String = target.chars().take_while(|c| *c != '[').collect();
            let fam = prog.families.get(fam_name.trim()).ok_or_else(|| bad(t, format!("`{}` in the template is not a decision", fam_name.trim())))?;
            let rest = &target[fam_name.len()..];
            let ids: Vec<DecisionId> = if rest == "[*]" {
                let mut inst: Vec<(&Vec<i64>, &DecisionId)> = fam.instances.iter().collect();
                inst.sort();
                inst.into_iter().map(|(_, d)| *d).collect()
            } else {
                let mut idx = Vec::new();
                let mut r = rest;
                while let Some(s) = r.strip_prefix('[') {
                    let close = s.find(']').ok_or_else(|| bad(t, format!("bad index in `{target}`")))?;
                    idx.push(s[..close].trim().parse::<i64>().map_err(|_| bad(t, format!("bad index in `{target}`")))?);
                    r = &s[close + 1..];
                }
                if !r.is_empty() {
                    return Err(bad(t, format!("bad placeholder `{target}`")));
                }
                vec![*fam.instances.get(&idx).ok_or_else(|| bad(t, format!("`{target}` is not a decision of this space")))?]
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
            if !segs.iter().any(|s| matches!(s, Seg::Dec(x, _) if *x == d.id)) {
                return Err(bad(t, format!("the template does not mention decision `{}`, so names would be ambiguous", d.name)));
            }
        }
        let f = NameFormat { name: name.to_string(), template: t.value.clone(), segs };
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
            (Slot::Opt(v), DecisionKind::Choice { options, .. }, Style::Display) => options.get(v as usize).map(|o| o.display()).unwrap_or_default(),
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
                Seg::Dec(d, st) => out.push_str(&Self::show(&decisions[d.index()], c.0[d.index()], *st)),
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
    fn read(&self, text: &str, decisions: &[DecisionInfo], when: &[WhenRows], valid: &dyn Fn(&Candidate) -> Result<(), CandidateError>, limit: usize, prune: bool) -> Reading {
        // the fewest and most bytes segments `k..` can print
        let mut span = vec![(0usize, 0usize); self.segs.len() + 1];
        for (k, seg) in self.segs.iter().enumerate().rev() {
            let (lo, hi) = match seg {
                Seg::Lit(l) => (l.len(), l.len()),
                Seg::Dec(d, st) => {
                    let info = &decisions[d.index()];
                    let lens = (0..info.arity() as u32).map(|v| Self::show(info, Slot::Opt(v), *st).len());
                    let lo = if info.conditional { 0 } else { lens.clone().min().unwrap_or(0) };
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
            out: Reading { found: Vec::new(), far: 0, expected: Vec::new(), invalid: None, exhausted: false },
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
                    let mut alts: Vec<Vec<u8>> = (0..info.arity() as u32).map(|v| Self::show(info, Slot::Opt(v), *st).into_bytes()).collect();
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
        let text = if text.is_empty() { EMPTY_NAME.to_string() } else { text };
        let mut r = self.read(&text, decisions, &[], &|_| Ok(()), 2, true);
        if text == EMPTY_NAME {
            r.found.extend(self.read("", decisions, &[], &|_| Ok(()), 2, true).found);
        }
        match r.found.as_slice() {
            [a, b, ..] if a != b => Some((a.clone(), b.clone(), text)),
            _ => None,
        }
    }
}

fn show_slot(d: &DecisionInfo, s: Slot) -> String {
    match (&d.kind, s) {
        (DecisionKind::Choice { options, .. }, Slot::Opt(v)) => options[v as usize].display(),
        (DecisionKind::Subset { pool, .. }, Slot::Members(m)) => {
            let names: Vec<String> = (0..pool.len()).filter(|j| (m >> j) & 1 == 1).map(|j| pool[j].display()).collect();
            format!("{{{}}}", names.join("+"))
        }
        _ => String::new(),
    }
}

/// The canonical genotype string: `d=v` for each existing decision, comma separated; a
/// candidate without decisions is [`EMPTY_NAME`].
pub fn canonical(c: &Candidate, decisions: &[DecisionInfo]) -> String {
    let s = decisions.iter().filter(|d| c.0[d.index()] != Slot::Absent).map(|d| format!("{}={}", d.name, show_slot(d, c.0[d.index()]))).collect::<Vec<_>>().join(",");
    if s.is_empty() {
        EMPTY_NAME.to_string()
    } else {
        s
    }
}

/// Parse the canonical form. Errors name what is wrong.
pub fn parse_canonical(text: &str, decisions: &[DecisionInfo]) -> Result<Candidate, NameError> {
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
        let (k, v) = p.split_once('=').ok_or_else(|| NameError::NotAssignment { part: p.to_string() })?;
        let k = k.trim();
        let d = decisions
            .iter()
            .find(|d| d.name == k)
            .ok_or_else(|| NameError::UnknownDecision { name: k.to_string(), suggestion: did_you_mean(k, decisions.iter().map(|d| d.name.as_str())).map(str::to_string) })?;
        if seen[d.index()] {
            return Err(NameError::GivenTwice { decision: d.name.clone() });
        }
        seen[d.index()] = true;
        let v = v.trim();
        slots[d.index()] = match &d.kind {
            DecisionKind::Choice { options, .. } => Slot::Opt(options.iter().position(|o| o.display() == v).ok_or_else(|| {
                let shown: Vec<String> = options.iter().map(|o| o.display()).collect();
                let suggestion = did_you_mean(v, shown.iter().map(String::as_str)).map(str::to_string);
                NameError::NotAnOption { value: v.to_string(), decision: d.name.clone(), options: shown, suggestion }
            })? as u32),
            DecisionKind::Subset { pool, .. } => {
                let inner = v.strip_prefix('{').and_then(|x| x.strip_suffix('}')).ok_or_else(|| NameError::SubsetSyntax { decision: d.name.clone() })?;
                let mut m = 0u64;
                for name in inner.split('+').map(str::trim).filter(|s| !s.is_empty()) {
                    let j = pool.iter().position(|o| o.display() == name).ok_or_else(|| NameError::NotInPool { member: name.to_string(), decision: d.name.clone() })?;
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
        let opts = Options { overrides: Vec::new(), loader: &NoFiles, default_name: "t".into() };
        let (space, diags) = compile(&spec, &opts);
        let errors: Vec<String> = diags.iter().filter(|d| d.is_error()).map(|d| format!("{} {}", d.code, d.message)).collect();
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
                DecisionKind::Choice { options, .. } => vals.extend((0..options.len() as u32).map(Slot::Opt)),
                DecisionKind::Subset { pool, .. } => vals.extend((0..1u64 << pool.len()).map(Slot::Members)),
            }
            out = out.into_iter().flat_map(|c| vals.iter().map(move |v| Candidate(c.0.iter().copied().chain([*v]).collect()))).collect();
        }
        out.retain(|c| s.check_valid(c).is_ok());
        out
    }

    #[test]
    fn conditional_families_parse_back() {
        // the example: k[0][1] absent, k[1][1] present
        let s = space("choice d[u in 0..2] in [1, 2]; choice k[u in 0..2][j in 0..2] in [3, 5] when d[u] > j; name a = \"{d[*]}{k[*]}\";");
        let c = s.parse_name("12533").expect("parses");
        assert_eq!(s.canonical(&c), "d[0]=1,d[1]=2,k[0][0]=5,k[1][0]=3,k[1][1]=3");
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
        assert_eq!(s.canonical(&s.parse_name("35312").unwrap()), "d[0]=1,d[1]=2,k[0][0]=3,k[1][0]=5,k[1][1]=3");
        let e = s.parse_name("35311").unwrap_err().to_string();
        assert!(e.contains("matches neither"), "{e}");
    }

    #[test]
    fn ambiguous_formats_are_refused_at_compile_time() {
        let e = errors("choice w[2] in [1, 11]; name n = \"{w[*]}\";");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("E0701 the template prints two candidates the same way"), "{e:?}");
        assert!(e[0].contains("`w[0]=1,w[1]=11`") && e[0].contains("`w[0]=11,w[1]=1`") && e[0].contains("named `111`"), "{e:?}");
        // an option that is a prefix of another, an empty option, and a separator that makes it injective
        let e = errors("choice a in [\"x\", \"xy\"]; choice b in [\"y\", \"\"]; name n = \"{a}{b}\";");
        assert!(e[0].contains("`a=x,b=y` and `a=xy,b=` are both named `xy`"), "{e:?}");
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
        let s = space("choice a in [1, 11]; choice k[1] in [1, 2] when a == 1; name n = \"{a}{k[*]}\";");
        let e = s.parse_name("11").unwrap_err().to_string();
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
        let e = s.parse_name("|nor_conv_3x4~0|+|none~0|").unwrap_err().to_string();
        assert!(e.contains("matches neither the `arch` format nor the canonical form"), "{e}");
        assert!(e.contains("at byte 1 found `nor_conv_3x4`, expected a value of `edge[0]` (`none`, `skip_connect`, `nor_conv_3x3`)"), "{e}");
        assert!(e.contains("did you mean `nor_conv_3x3`?"), "{e}");
        // a wrong literal
        let e = s.parse_name("|none~1|+|none~0|").unwrap_err().to_string();
        assert!(e.contains("at byte 5 found `~`, expected `~0|+|`"), "{e}");
        // trailing text and a name cut short
        let e = s.parse_name("|none~0|+|none~0|x").unwrap_err().to_string();
        assert!(e.contains("at byte 17 found `x`, expected the end of the name"), "{e}");
        let e = s.parse_name("|none~0|+|").unwrap_err().to_string();
        assert!(e.contains("at byte 10 found the end of the name, expected a value of `edge[1]`"), "{e}");
        // canonical names get hints too
        let e = s.parse_name("edge[0]=nor_conv_3x4,edge[1]=none").unwrap_err().to_string();
        assert!(e.contains("`nor_conv_3x4` is not an option of `edge[0]`") && e.contains("did you mean `nor_conv_3x3`?"), "{e}");
        let e = s.parse_name("edeg[0]=none,edge[1]=none").unwrap_err().to_string();
        assert!(e.contains("unknown decision `edeg[0]`; did you mean `edge[0]`?"), "{e}");
        // a reading that breaks a guard says so
        let s = space("choice d in [1, 2]; choice k[2] in [3, 5] when d > 1; name a = \"{k[*]}:{d}\";");
        let e = s.parse_name("35:1").unwrap_err().to_string();
        assert!(e.contains("at byte 3 found `1`, expected a value that agrees with the decisions read before it (`d=1` contradicts the `when` of `k[0]`)"), "{e}");
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn highly_ambiguous_templates_run_out_of_budget_with_an_error() {
        // 40 decisions printed before the one that guards them: until `n` is read each may be
        // present or absent, so twenty `1`s have C(40, 20) readings
        let s = space("choice n in [0, 1]; choice w[40] in [\"1\"] when n == 1; name f = \"{w[*]}:{n}\";");
        let e = s.parse_name(&format!("{}:0", "1".repeat(20))).unwrap_err().to_string();
        assert!(e.contains("has too many readings in the `f` format"), "{e}");
        // lengths prune the readings of a valid name: forty `1`s are forty present decisions
        let name = format!("{}:1", "1".repeat(40));
        let c = s.parse_name(&name).unwrap();
        assert_eq!(s.name_of(&c), name);
        assert_eq!(s.canonical(&s.parse_name(":0").unwrap()), "n=0");
    }

    #[test]
    fn the_automaton_finds_collisions_between_segments() {
        let alts = |v: &[&[&str]]| v.iter().map(|s| s.iter().map(|x| x.as_bytes().to_vec()).collect()).collect::<Vec<Vec<Vec<u8>>>>();
        assert_eq!(ambiguous_text(&alts(&[&["1", "11"], &["1", "11"]])), Some(b"111".to_vec()));
        assert_eq!(ambiguous_text(&alts(&[&["1", "11"], &["-"], &["1", "11"]])), None);
        assert_eq!(ambiguous_text(&alts(&[&["ab", "a"], &["bc", "c"]])), Some(b"abc".to_vec()));
        assert_eq!(ambiguous_text(&alts(&[&["", "x"], &["x", ""]])), Some(b"x".to_vec()));
        assert_eq!(ambiguous_text(&alts(&[&["0", "10", "110"], &["0", "10", "110"]])), None);
    }
}
