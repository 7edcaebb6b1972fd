//! The report's SVG plots, rendered for real (resvg, text laid out with the system's fonts):
//! they parse and render, every label lies inside the canvas, the legend lies outside the plot
//! area, and their size stays bounded with a million trials.
mod common;
use common::*;
use nasc_runtime::report::plots;
use nasc_runtime::Budget;
use resvg::{tiny_skia, usvg};
use std::path::Path;

fn fonts() -> usvg::Options<'static> {
    let mut opt = usvg::Options::default();
    let db = opt.fontdb_mut();
    db.load_system_fonts();
    // fontdb's generic sans-serif is Arial; point it at a family that is installed
    let family = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans"].into_iter().find(|f| db.faces().any(|face| face.families.iter().any(|(n, _)| n == f)));
    if let Some(f) = family {
        db.set_sans_serif_family(f);
    }
    assert!(!opt.fontdb.is_empty(), "no system fonts: install fonts-dejavu-core (the plot test lays out text)");
    opt
}

/// Text bounding boxes of every text node, in canvas coordinates.
fn text_boxes(g: &usvg::Group, out: &mut Vec<(String, usvg::Rect)>) {
    for n in g.children() {
        match n {
            usvg::Node::Group(g) => text_boxes(g, out),
            usvg::Node::Text(t) => {
                let s: String = t.chunks().iter().map(|c| c.text().to_string()).collect();
                out.push((s, t.abs_bounding_box()));
            }
            _ => {}
        }
    }
}

/// Parse, render and check one SVG file; returns its text boxes.
fn check(path: &Path, opt: &usvg::Options) -> Vec<(String, usvg::Rect)> {
    let text = std::fs::read_to_string(path).unwrap();
    let tree = usvg::Tree::from_str(&text, opt).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let size = tree.size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width() as u32, size.height() as u32).unwrap();
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let mut boxes = Vec::new();
    text_boxes(tree.root(), &mut boxes);
    assert!(boxes.len() >= 5, "{}: {} labels", path.display(), boxes.len());
    for (s, b) in &boxes {
        assert!(
            b.left() >= 0.0 && b.top() >= 0.0 && b.right() <= size.width() && b.bottom() <= size.height(),
            "{}: label `{s}` at {b:?} is clipped by the {}x{} canvas",
            path.display(),
            size.width(),
            size.height()
        );
    }
    // a non-blank picture
    assert!(pixmap.pixels().iter().any(|p| p.red() < 128));
    boxes
}

#[test]
fn report_plots_render_with_every_label_inside_the_canvas() {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new("nb201.nas", "re", "nb201:dataset=cifar10,epochs=12", 0, Budget::Trials(300));
    setup.cfg.space_metrics = true;
    let (mut run, _) = setup.run_sqlite(&dir.path().join("run.db"));
    // a long title (strategy config in the evaluator name) must wrap, not be clipped
    run.meta.evaluator = "nb201:dataset=cifar10,epochs=12,noise=seed,and=a,long=tail,of=options,that=goes,on=and,on=x".into();
    let opt = fonts();
    let files = plots(&run, &dir.path().join("plots"), &[]).unwrap();
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let boxes = check(f, &opt);
        // the legend lies outside the plot frame (it covered data before)
        let text = std::fs::read_to_string(f).unwrap();
        let (fx, fw) = frame(&text);
        let legend: Vec<_> = boxes.iter().filter(|(s, _)| s == "best reward" || s == "Pareto front").collect();
        assert!(!legend.is_empty(), "{}: no legend", f.display());
        for (s, b) in legend {
            assert!(b.left() as f64 >= fx + fw, "{}: legend `{s}` at {b:?} overlaps the plot frame (x {fx}..{})", f.display(), fx + fw);
        }
    }
}

/// x and width of the plot frame (the black unfilled rect).
fn frame(svg: &str) -> (f64, f64) {
    let line = svg.lines().find(|l| l.contains(r#"fill="none" stroke="black""#)).expect("a plot frame");
    let attr = |name: &str| -> f64 {
        let k = format!(" {name}=\"");
        let i = line.find(&k).unwrap() + k.len();
        line[i..].split('"').next().unwrap().parse().unwrap()
    };
    (attr("x"), attr("width"))
}

#[test]
fn plots_of_a_million_trials_stay_small() {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new("nb201.nas", "rs", "nb201:dataset=cifar10,epochs=12", 0, Budget::Trials(1000));
    setup.cfg.space_metrics = true;
    let (mut run, _) = setup.run_sqlite(&dir.path().join("run.db"));
    let base = std::mem::take(&mut run.trials);
    run.trials = (0..1_000_000u64)
        .map(|i| {
            let mut t = base[(i % base.len() as u64) as usize].clone();
            t.seq = i;
            t.sim_end = i as f64;
            t
        })
        .collect();
    let opt = fonts();
    for f in plots(&run, &dir.path().join("plots"), &[]).unwrap() {
        let len = std::fs::metadata(&f).unwrap().len();
        assert!(len < 1_000_000, "{}: {len} bytes", f.display());
        check(&f, &opt);
    }
}
