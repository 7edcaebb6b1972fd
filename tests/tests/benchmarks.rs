//! Derived params and FLOPs against the benchmark tables (tests/data, see PROVENANCE.md).
use nasc_tests::{compile_zoo, metric, table};

#[test]
fn nb201_params_and_flops_match_the_benchmark() {
    let rows = table("nb201_cost.csv");
    assert_eq!(rows.len(), 15_625);
    for (classes, side, pcol, fcol) in [("10", "32", "params_c10", "flops_c10"), ("100", "32", "params_c100", "flops_c100"), ("120", "16", "params_img16", "flops_img16")] {
        let s = compile_zoo("nb201", &[("classes", classes), ("side", side)]);
        assert_eq!(s.size().to_string(), "15625");
        let (mut ok_params, mut ok_flops, mut clean) = (0, 0, 0);
        for r in &rows {
            let c = s.parse_name(&r["arch_str"]).expect("arch string parses");
            let p = metric(&s, &c, "params") as i64;
            let f = metric(&s, &c, "flops") as i64;
            if r["corrupt"] == "0" {
                clean += 1;
                ok_params += usize::from(p.to_string() == r[pcol]);
            }
            ok_flops += usize::from(f.to_string() == r[fcol]);
        }
        assert_eq!(clean, 15_475);
        assert_eq!(ok_params, 15_475, "params match at {classes} classes");
        assert_eq!(ok_flops, 15_625, "flops match at {classes} classes");
        // published extremes (NETWORK.md): exact bounds over the space
        let b = s.metrics().iter().find(|m| m.name == "flops").and_then(|m| m.bounds).expect("bounds");
        let (lo, hi) = match classes {
            "10" => (7_783_050.0, 220_119_690.0),
            "100" => (7_788_900.0, 220_125_540.0),
            _ => (1_953_400.0, 55_037_560.0),
        };
        assert_eq!((b.min, b.max), (lo, hi));
    }
}

#[test]
fn nb201_index_0_published_flops() {
    let s = compile_zoo("nb201", &[]);
    let c = s.parse_name("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|").expect("parses");
    assert_eq!(metric(&s, &c, "flops"), 15_647_370.0);
    assert_eq!(metric(&s, &c, "params"), 129_306.0);
}

fn check_table(spec: &str, file: &str, size: &str, rows_expected: usize) {
    let s = compile_zoo(spec, &[]);
    assert_eq!(s.size().to_string(), size);
    let rows = table(file);
    assert_eq!(rows.len(), rows_expected);
    let (mut p_ok, mut f_ok) = (0, 0);
    for r in &rows {
        let c = s.parse_name(&r["arch"]).expect("benchmark key parses");
        assert_eq!(s.name_of(&c), r["arch"], "round trip of the key");
        p_ok += usize::from((metric(&s, &c, "params") as i64).to_string() == r["params"]);
        f_ok += usize::from((metric(&s, &c, "flops") as i64).to_string() == r["flops"]);
    }
    assert_eq!((p_ok, f_ok), (rows_expected, rows_expected), "{spec}: params and flops match every row");
}

#[test]
fn nas_bench_macro_matches_every_row() {
    check_table("nas_bench_macro", "nas_bench_macro_cost.csv", "6561", 6_561);
}

#[test]
fn channel_bench_macro_mobilenet_matches_every_row() {
    check_table("channel_bench_macro_mobilenet", "channel_bench_macro_mobilenet_cost.csv", "16384", 16_384);
}

#[test]
fn channel_bench_macro_resnet_matches_every_row() {
    check_table("channel_bench_macro_resnet", "channel_bench_macro_resnet_cost.csv", "16384", 16_384);
}
