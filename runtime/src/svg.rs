//! Minimal hand-written SVG charts (no plotting dependency): step lines, scatter plots (thinned
//! to a density grid past [`MAX_DOTS`] points) and mean ± sd bands, with axes, ticks, a title
//! wrapped to the canvas and a legend outside the plot area.
//!
//! The output size does not grow with the number of points beyond a bound: a dot series of more
//! than `MAX_DOTS` points is drawn as at most `GRID_X * GRID_Y` density cells, and a line is
//! drawn with at most one vertex per horizontal pixel column run (consecutive points that fall
//! on the same pixel are merged).
use std::fmt::Write;

/// Canvas size and the plot area's margins (the right margin grows with the legend).
const W: f64 = 640.0;
const H: f64 = 420.0;
const L: f64 = 70.0;
const R: f64 = 20.0;
const B: f64 = 55.0;
/// Approximate advance of one character at font-size 12 (sans-serif), used for layout.
pub const CHAR_W: f64 = 7.0;
/// Past this many points a dot series becomes a density grid.
pub const MAX_DOTS: usize = 2000;
const GRID_X: usize = 120;
const GRID_Y: usize = 80;

/// Points a plot keeps of a run: every point up to [`SAMPLE_CAP`], then a uniform sample of
/// that many (reservoir sampling with a fixed seed: the same points on every run), plus the
/// extreme points in x and y so that the axes cover every point seen. Memory and output stay
/// bounded however many trials a run has; past [`MAX_DOTS`] the points are drawn as a density
/// grid anyway, whose shading a uniform sample keeps.
#[derive(Debug, Clone)]
pub struct Sample {
    pub seen: u64,
    kept: Vec<(f64, f64)>,
    /// Least x, greatest x, least y, greatest y (finite points).
    extremes: [Option<(f64, f64)>; 4],
    rng: nasc_compiler::rng::Rng,
}

/// Points a [`Sample`] keeps.
pub const SAMPLE_CAP: usize = 50_000;

impl Default for Sample {
    fn default() -> Self {
        Self::new()
    }
}

impl Sample {
    pub fn new() -> Self {
        Sample { seen: 0, kept: Vec::new(), extremes: [None; 4], rng: nasc_compiler::rng::Rng::new(0x005A_3B1E) }
    }

    pub fn push(&mut self, p: (f64, f64)) {
        self.seen += 1;
        if p.0.is_finite() && p.1.is_finite() {
            for (k, e) in self.extremes.iter_mut().enumerate() {
                let (a, b) = if k < 2 { (p.0, e.map_or(f64::NAN, |q| q.0)) } else { (p.1, e.map_or(f64::NAN, |q| q.1)) };
                if e.is_none() || (k % 2 == 0 && a < b) || (k % 2 == 1 && a > b) {
                    *e = Some(p);
                }
            }
        }
        if self.kept.len() < SAMPLE_CAP {
            self.kept.push(p);
        } else {
            let j = self.rng.below(self.seen) as usize;
            if j < SAMPLE_CAP {
                self.kept[j] = p;
            }
        }
    }

    /// The kept points (every point when no more than [`SAMPLE_CAP`] were seen).
    pub fn points(&self) -> Vec<(f64, f64)> {
        let mut v = self.kept.clone();
        if self.seen > SAMPLE_CAP as u64 {
            v.extend(self.extremes.iter().flatten());
        }
        v
    }
}

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub color: &'static str,
    /// Draw as a step function (best-so-far) rather than straight segments.
    pub step: bool,
    /// Draw points as dots instead of a line.
    pub dots: bool,
    /// A shaded band `(x, lo, hi)` drawn under the line (e.g. mean ± sd).
    pub band: Vec<(f64, f64, f64)>,
}

impl Series {
    /// A step line (best-so-far curves, fronts).
    pub fn step(name: impl Into<String>, points: Vec<(f64, f64)>, color: &'static str) -> Self {
        Series { name: name.into(), points, color, step: true, dots: false, band: Vec::new() }
    }
    /// A Pareto front as a staircase through its points (sorted here by x): the corner between
    /// two points is the one the front attains, `(x2, y1)` when x is minimized, `(x1, y2)` when
    /// it is maximized (`x_maximized`). Drawn as straight segments through the corners.
    pub fn front(name: impl Into<String>, points: Vec<(f64, f64)>, x_maximized: bool, color: &'static str) -> Self {
        let mut p: Vec<(f64, f64)> = points.into_iter().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut line = Vec::with_capacity(2 * p.len());
        for (k, &q) in p.iter().enumerate() {
            if k > 0 {
                let prev = p[k - 1];
                line.push(if x_maximized { (prev.0, q.1) } else { (q.0, prev.1) });
            }
            line.push(q);
        }
        Series { name: name.into(), points: line, color, step: false, dots: false, band: Vec::new() }
    }
    /// A scatter of dots.
    pub fn dots(name: impl Into<String>, points: Vec<(f64, f64)>, color: &'static str) -> Self {
        Series { name: name.into(), points, color, step: false, dots: true, band: Vec::new() }
    }
    /// With a shaded band `(x, lo, hi)`.
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = band;
        self
    }
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

/// Split `text` into lines of at most `max` characters, at spaces where possible.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > max {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            lines.push(head);
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The data range of the finite points and band edges of `series`.
fn data_range(series: &[Series]) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    let mut add = |x: f64, y: f64| {
        if x.is_finite() && y.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    };
    for s in series {
        s.points.iter().for_each(|p| add(p.0, p.1));
        s.band.iter().for_each(|b| {
            add(b.0, b.1);
            add(b.0, b.2);
        });
    }
    (x0, x1, y0, y1)
}

/// A chart of `series` with the given title and axis labels; the y-range is the data's.
pub fn chart(title: &str, xlabel: &str, ylabel: &str, series: &[Series]) -> String {
    chart_in(title, xlabel, ylabel, series, None)
}

/// A chart with an explicit y-range (points outside it are clipped to the plot area).
pub fn chart_in(title: &str, xlabel: &str, ylabel: &str, series: &[Series], y_range: Option<(f64, f64)>) -> String {
    let (mut x0, mut x1, mut y0, mut y1) = data_range(series);
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if let Some((a, b)) = y_range.filter(|(a, b)| a.is_finite() && b.is_finite() && a < b) {
        (y0, y1) = (a, b);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let pad = (y1 - y0) * 0.05;
    let (y0, y1) = (y0 - pad, y1 + pad);
    // legend to the right of the plot area, title wrapped to the canvas
    let legend_w = if series.is_empty() { 0.0 } else { 30.0 + CHAR_W * series.iter().map(|s| s.name.chars().count()).max().unwrap_or(0) as f64 };
    let r = R + legend_w + if legend_w > 0.0 { 10.0 } else { 0.0 };
    let w = W.max(L + r + 300.0);
    let title_lines = wrap(title, ((w - 20.0) / (CHAR_W * 1.25)) as usize);
    let t = 22.0 + 18.0 * title_lines.len() as f64;
    let sx = |x: f64| L + (x - x0) / (x1 - x0) * (w - L - r);
    let sy = |y: f64| H - B - (y - y0) / (y1 - y0) * (H - t - B);
    let mut s = String::new();
    let _ = writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{H}" viewBox="0 0 {w} {H}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<defs><clipPath id="plot"><rect x="{L}" y="{t}" width="{:.1}" height="{:.1}"/></clipPath></defs>"#, w - L - r, H - t - B);
    for (i, line) in title_lines.iter().enumerate() {
        let _ = writeln!(s, r#"<text x="{}" y="{}" text-anchor="middle" font-size="15">{}</text>"#, w / 2.0, 22.0 + 18.0 * i as f64, esc(line));
    }
    for tk in ticks(x0, x1) {
        let x = sx(tk);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{t:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e5e5e5"/>"##, H - B);
        let _ = writeln!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, H - B + 16.0, fmt_tick(tk));
    }
    for tk in ticks(y0, y1) {
        let y = sy(tk);
        let _ = writeln!(s, r##"<line x1="{L}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##, w - r);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, L - 6.0, y + 4.0, fmt_tick(tk));
    }
    let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#, L + (w - L - r) / 2.0, H - 14.0, esc(xlabel));
    let _ = writeln!(s, r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#, t + (H - t - B) / 2.0, t + (H - t - B) / 2.0, esc(ylabel));
    let _ = writeln!(s, r#"<g clip-path="url(#plot)">"#);
    for se in series {
        if !se.band.is_empty() {
            let b: Vec<&(f64, f64, f64)> = se.band.iter().filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite()).collect();
            let mut d = String::new();
            for (j, p) in b.iter().enumerate() {
                let _ = write!(d, "{}{:.1},{:.1}", if j == 0 { "M" } else { " L" }, sx(p.0), sy(p.2));
            }
            for p in b.iter().rev() {
                let _ = write!(d, " L{:.1},{:.1}", sx(p.0), sy(p.1));
            }
            if !b.is_empty() {
                let _ = writeln!(s, r#"<path d="{d} Z" fill="{}" fill-opacity="0.15" stroke="none"/>"#, se.color);
            }
        }
        let p = se.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite());
        if se.dots {
            let n = se.points.len();
            if n <= MAX_DOTS {
                for (x, y) in p {
                    let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}" fill-opacity="0.5"/>"#, sx(x), sy(y), se.color);
                }
            } else {
                density(&mut s, p, se.color, (L, t, w - L - r, H - t - B), &sx, &sy);
            }
        } else {
            let mut d = String::new();
            let mut last: Option<(f64, f64)> = None;
            for (x, y) in p {
                let (px, py) = ((sx(x) * 10.0).round() / 10.0, (sy(y) * 10.0).round() / 10.0);
                match last {
                    None => {
                        let _ = write!(d, "M{px:.1},{py:.1}");
                    }
                    Some(l) if l == (px, py) => continue,
                    Some(_) => {
                        if se.step {
                            let _ = write!(d, " H{px:.1}");
                        }
                        let _ = write!(d, " L{px:.1},{py:.1}");
                    }
                }
                last = Some((px, py));
            }
            if last.is_some() {
                let _ = writeln!(s, r#"<path d="{d}" fill="none" stroke="{}" stroke-width="2"/>"#, se.color);
            }
        }
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(s, r#"<rect x="{L}" y="{t}" width="{:.1}" height="{:.1}" fill="none" stroke="black"/>"#, w - L - r, H - t - B);
    if legend_w > 0.0 {
        let lx = w - R - legend_w;
        let _ = writeln!(s, r##"<rect x="{lx:.1}" y="{t:.1}" width="{legend_w:.1}" height="{:.1}" fill="white" stroke="#cccccc"/>"##, 16.0 * series.len() as f64 + 8.0);
        for (i, se) in series.iter().enumerate() {
            let ly = t + 18.0 + 16.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="12" height="4" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 6.0,
                ly - 6.0,
                se.color,
                lx + 24.0,
                ly,
                esc(&se.name)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Draw many points as a grid of cells shaded by log count (memory and output bounded by the
/// grid, whatever the number of points).
fn density(s: &mut String, pts: impl Iterator<Item = (f64, f64)>, color: &str, area: (f64, f64, f64, f64), sx: &dyn Fn(f64) -> f64, sy: &dyn Fn(f64) -> f64) {
    let (ax, ay, aw, ah) = area;
    let mut grid = vec![0u64; GRID_X * GRID_Y];
    for (x, y) in pts {
        let (cx, cy) = ((sx(x) - ax) / aw * GRID_X as f64, (sy(y) - ay) / ah * GRID_Y as f64);
        if (0.0..GRID_X as f64 + 1e-9).contains(&cx) && (0.0..GRID_Y as f64 + 1e-9).contains(&cy) {
            let (i, j) = ((cx as usize).min(GRID_X - 1), (cy as usize).min(GRID_Y - 1));
            grid[j * GRID_X + i] += 1;
        }
    }
    let max = grid.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (cw, ch) = (aw / GRID_X as f64, ah / GRID_Y as f64);
    for (k, c) in grid.iter().enumerate().filter(|(_, c)| **c > 0) {
        let op = 0.15 + 0.85 * (1.0 + *c as f64).ln() / (1.0 + max).ln();
        let _ = writeln!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{cw:.2}" height="{ch:.2}" fill="{color}" fill-opacity="{op:.2}"/>"#,
            ax + (k % GRID_X) as f64 * cw,
            ay + (k / GRID_X) as f64 * ch
        );
    }
}

/// The Pareto front of (cost, reward) points: minimize cost, maximize reward. Sorted by cost.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for q in p {
        if out.last().is_none_or(|l| q.1 > l.1) {
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
        let s = chart("t", "x", "y", &[Series::step("a", vec![(0.0, 1.0), (1.0, 2.0)], "red")]);
        assert!(s.starts_with("<svg") && s.contains("<path"));
    }

    #[test]
    fn a_front_is_a_staircase_through_its_attained_corners() {
        // cost minimized: reward holds until the next cost
        let f = Series::front("f", vec![(3.0, 7.0), (1.0, 5.0), (0.5, 1.0)], false, "red");
        assert_eq!(f.points, vec![(0.5, 1.0), (1.0, 1.0), (1.0, 5.0), (3.0, 5.0), (3.0, 7.0)]);
        // both maximized: the corner below the higher point
        let g = Series::front("g", vec![(1.0, 5.0), (2.0, 4.0), (f64::NAN, 9.0)], true, "red");
        assert_eq!(g.points, vec![(1.0, 5.0), (1.0, 4.0), (2.0, 4.0)]);
        assert!(!g.step && !g.dots);
    }

    #[test]
    fn many_dots_become_a_bounded_density_grid() {
        let pts: Vec<(f64, f64)> = (0..200_000).map(|i| ((i % 1000) as f64, (i / 1000) as f64)).collect();
        let s = chart("t", "x", "y", &[Series::dots("trials", pts, "#777777")]);
        assert!(!s.contains("<circle"));
        assert!(s.len() < 2_000_000, "{} bytes", s.len());
        let few = chart("t", "x", "y", &[Series::dots("trials", vec![(1.0, 1.0), (2.0, 2.0)], "#777777")]);
        assert_eq!(few.matches("<circle").count(), 2);
    }

    #[test]
    fn a_long_line_is_merged_per_pixel() {
        let pts: Vec<(f64, f64)> = (0..1_000_000).map(|i| (i as f64, (i / 100_000) as f64)).collect();
        let s = chart("t", "x", "y", &[Series::step("best", pts, "#1f77b4")]);
        assert!(s.len() < 200_000, "{} bytes", s.len());
    }

    #[test]
    fn long_titles_wrap_and_lines_fit() {
        for line in wrap("nb201 / layernas / nb201:dataset=cifar10,epochs=12,noise=seed with a long tail of words", 40) {
            assert!(line.chars().count() <= 40, "{line}");
        }
        assert_eq!(wrap("", 10), vec![String::new()]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }
}
