//! Candidate names: the canonical genotype string and template formats (a benchmark's own key).
use crate::decision::{Candidate, DecisionInfo, DecisionKind, Slot};
use crate::ids::DecisionId;
use crate::program::Program;
use nasc_grammar::ast::StrLit;
use nasc_grammar::diag::Diagnostic;

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
        Ok(NameFormat { name: name.to_string(), template: t.value.clone(), segs })
    }

    fn show(d: &DecisionInfo, s: Slot, style: Style) -> String {
        match (s, &d.kind, style) {
            (Slot::Opt(v), DecisionKind::Choice { options, .. }, Style::Display) => options[v as usize].display(),
            (Slot::Opt(v), _, Style::Index) => v.to_string(),
            (Slot::Opt(v), _, Style::Index1) => (v + 1).to_string(),
            _ => String::new(),
        }
    }

    pub fn print(&self, c: &Candidate, decisions: &[DecisionInfo]) -> String {
        let mut out = String::new();
        for s in &self.segs {
            match s {
                Seg::Lit(l) => out.push_str(l),
                Seg::Dec(d, st) => out.push_str(&Self::show(&decisions[d.index()], c.0[d.index()], *st)),
            }
        }
        out
    }

    /// Parse a name; `None` if it does not match the template.
    pub fn parse_name(&self, text: &str, decisions: &[DecisionInfo]) -> Option<Candidate> {
        let mut slots = vec![Slot::Absent; decisions.len()];
        let mut budget = 1_000_000u32;
        if self.matches(0, text, decisions, &mut slots, &mut budget) {
            Some(Candidate(slots))
        } else {
            None
        }
    }

    fn matches(&self, k: usize, rest: &str, decisions: &[DecisionInfo], slots: &mut Vec<Slot>, budget: &mut u32) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let Some(seg) = self.segs.get(k) else { return rest.is_empty() };
        match seg {
            Seg::Lit(l) => rest.strip_prefix(l.as_str()).is_some_and(|r| self.matches(k + 1, r, decisions, slots, budget)),
            Seg::Dec(d, st) => {
                let info = &decisions[d.index()];
                let prev = slots[d.index()];
                for v in 0..info.arity() as u32 {
                    let shown = Self::show(info, Slot::Opt(v), *st);
                    if let Some(r) = rest.strip_prefix(shown.as_str()) {
                        if prev != Slot::Absent && prev != Slot::Opt(v) {
                            continue;
                        }
                        slots[d.index()] = Slot::Opt(v);
                        if self.matches(k + 1, r, decisions, slots, budget) {
                            return true;
                        }
                        slots[d.index()] = prev;
                    }
                }
                // a conditional decision may be absent (prints nothing)
                if info.conditional && prev == Slot::Absent && self.matches(k + 1, rest, decisions, slots, budget) {
                    return true;
                }
                false
            }
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

/// The canonical genotype string: `d=v` for each existing decision, comma separated.
pub fn canonical(c: &Candidate, decisions: &[DecisionInfo]) -> String {
    decisions.iter().filter(|d| c.0[d.index()] != Slot::Absent).map(|d| format!("{}={}", d.name, show_slot(d, c.0[d.index()]))).collect::<Vec<_>>().join(",")
}

/// Parse the canonical form. Errors name what is wrong.
pub fn parse_canonical(text: &str, decisions: &[DecisionInfo]) -> Result<Candidate, String> {
    let mut slots = vec![Slot::Absent; decisions.len()];
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
        let (k, v) = p.split_once('=').ok_or_else(|| format!("`{p}` is not `decision=value`"))?;
        let d = decisions.iter().find(|d| d.name == k.trim()).ok_or_else(|| format!("unknown decision `{}`", k.trim()))?;
        if seen[d.index()] {
            return Err(format!("decision `{}` given twice", d.name));
        }
        seen[d.index()] = true;
        let v = v.trim();
        slots[d.index()] = match &d.kind {
            DecisionKind::Choice { options, .. } => Slot::Opt(
                options.iter().position(|o| o.display() == v).ok_or_else(|| format!("`{v}` is not an option of `{}`", d.name))? as u32,
            ),
            DecisionKind::Subset { pool, .. } => {
                let inner = v.strip_prefix('{').and_then(|x| x.strip_suffix('}')).ok_or_else(|| format!("subset `{}` must be written `{{a+b}}`", d.name))?;
                let mut m = 0u64;
                for name in inner.split('+').map(str::trim).filter(|s| !s.is_empty()) {
                    let j = pool.iter().position(|o| o.display() == name).ok_or_else(|| format!("`{name}` is not in the pool of `{}`", d.name))?;
                    m |= 1 << j;
                }
                Slot::Members(m)
            }
        };
    }
    Ok(Candidate(slots))
}
