//! Minimal hand-written SVG charts (no plotting dependency): step lines and scatter plots with
//! axes, ticks and labels.
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 420.0;
const L: f64 = 70.0;
const R: f64 = 20.0;
const T: f64 = 40.0;
const B: f64 = 55.0;

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub color: &'static str,
    /// Draw as a step function (best-so-far) rather than straight segments.
    pub step: bool,
    /// Draw points as dots instead of a line.
    pub dots: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// About 5 "nice" tick values covering [lo, hi].
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

/// Short label of a tick value: 1.5M, 20k, 93.2.
pub fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if a >= 1e9 {
        trim(format!("{:.2}", v / 1e9)) + "G"
    } else if a >= 1e6 {
        trim(format!("{:.2}", v / 1e6)) + "M"
    } else if a >= 1e4 {
        trim(format!("{:.1}", v / 1e3)) + "k"
    } else {
        trim(format!("{v:.3}"))
    }
}

/// A chart of `series` with the given title and axis labels.
pub fn chart(title: &str, xlabel: &str, ylabel: &str, series: &[Series]) -> String {
    let pts = series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in pts {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let pad = (y1 - y0) * 0.05;
    let (y0, y1) = (y0 - pad, y1 + pad);
    let sx = |x: f64| L + (x - x0) / (x1 - x0) * (W - L - R);
    let sy = |y: f64| H - B - (y - y0) / (y1 - y0) * (H - T - B);
    let mut s = String::new();
    let _ = writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, W / 2.0, esc(title));
    // grid and ticks
    for t in ticks(x0, x1) {
        let x = sx(t);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e5e5e5"/>"##, T, H - B);
        let _ = writeln!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, H - B + 16.0, fmt_tick(t));
    }
    for t in ticks(y0, y1) {
        let y = sy(t);
        let _ = writeln!(s, r##"<line x1="{L}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##, W - R);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, L - 6.0, y + 4.0, fmt_tick(t));
    }
    let _ = writeln!(s, r#"<rect x="{L}" y="{T}" width="{:.1}" height="{:.1}" fill="none" stroke="black"/>"#, W - L - R, H - T - B);
    let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, L + (W - L - R) / 2.0, H - 14.0, esc(xlabel));
    let _ = writeln!(s, r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#, T + (H - T - B) / 2.0, T + (H - T - B) / 2.0, esc(ylabel));
    let legend_w = 40.0 + 7.0 * series.iter().map(|s| s.name.len()).max().unwrap_or(0) as f64;
    for se in series {
        let p: Vec<(f64, f64)> = se.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        if se.dots {
            for (x, y) in &p {
                let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}" fill-opacity="0.5"/>"#, sx(*x), sy(*y), se.color);
            }
        } else if !p.is_empty() {
            let mut d = String::new();
            for (j, (x, y)) in p.iter().enumerate() {
                if j == 0 {
                    let _ = write!(d, "M{:.1},{:.1}", sx(*x), sy(*y));
                } else {
                    if se.step {
                        let _ = write!(d, " H{:.1}", sx(*x));
                    }
                    let _ = write!(d, " L{:.1},{:.1}", sx(*x), sy(*y));
                }
            }
            let _ = writeln!(s, r#"<path d="{d}" fill="none" stroke="{}" stroke-width="2"/>"#, se.color);
        }
    }
    let _ = writeln!(s, r##"<rect x="{:.1}" y="{:.1}" width="{legend_w:.1}" height="{:.1}" fill="white" fill-opacity="0.85" stroke="#cccccc"/>"##, L + 4.0, T + 4.0, 16.0 * series.len() as f64 + 6.0);
    for (i, se) in series.iter().enumerate() {
        let ly = T + 20.0 + 16.0 * i as f64;
        let _ = writeln!(s, r#"<rect x="{:.1}" y="{:.1}" width="12" height="4" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#, L + 10.0, ly - 6.0, se.color, L + 28.0, ly, esc(&se.name));
    }
    s.push_str("</svg>\n");
    s
}

/// The Pareto front of (cost, reward) points: minimize cost, maximize reward. Sorted by cost.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for q in p {
        if out.last().map_or(true, |l| q.1 > l.1) {
            out.push(q);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn front_and_ticks() {
        let f = pareto_front(&[(1.0, 5.0), (2.0, 4.0), (3.0, 7.0), (0.5, 1.0), (3.0, 6.0)]);
        assert_eq!(f, vec![(0.5, 1.0), (1.0, 5.0), (3.0, 7.0)]);
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(fmt_tick(1_500_000.0), "1.5M");
        let s = chart("t", "x", "y", &[Series { name: "a".into(), points: vec![(0.0, 1.0), (1.0, 2.0)], color: "red", step: true, dots: false }]);
        assert!(s.starts_with("<svg") && s.contains("<path"));
    }
}
