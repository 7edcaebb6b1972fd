//! The tabular evaluators return the benchmarks' exact numbers. Known values are pinned here;
//! a full cross-check against the source CSVs in ../shared runs when they are present (the
//! embedded tables are the product; ../shared is only the reference).
mod common;
use common::*;
use nasc_runtime::eval::{self, EvalRequest, EvalResult};
use nasc_runtime::SearchSpace;
use std::path::Path;

fn eval_name(space: &SearchSpace, evaluator: &str, name: &str, id: u64) -> EvalResult {
    let mut ev = eval::make(evaluator, space).unwrap();
    let c = space.parse_name(name).unwrap();
    assert_eq!(space.display_name(&c), name);
    ev.evaluate(space, &[EvalRequest { id, candidate: &c, seed: 42 }]).pop().unwrap().unwrap()
}

fn metric(ev: &str, space: &SearchSpace, r: &EvalResult, m: &str) -> f64 {
    let names = eval::make(ev, space).unwrap().metric_names();
    r.metrics[names.iter().position(|n| n == m).unwrap()]
}

const ARCH0: &str = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
const ARCH6111: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

#[test]
fn nb201_known_values() {
    let (space, _) = space("nb201.nas", &[]);
    // index 0, CIFAR-10: reward = 12-epoch valid, reported = 200-epoch test (nb201_tss.csv row 0)
    let e = "nb201:dataset=cifar10";
    let r = eval_name(&space, e, ARCH0, 0);
    assert_eq!((r.reward, r.reported), (63.364, 85.863333));
    assert_eq!(metric(e, &space, &r, "valid_acc"), 81.982667);
    assert_eq!(metric(e, &space, &r, "test_acc_12ep"), 69.55);
    assert_eq!(metric(e, &space, &r, "nb201_index"), 0.0);
    assert_eq!(r.cost, 1444.2186 * (12.0 / 200.0));
    // 200-epoch reward; CIFAR-100 and ImageNet16-120 (derived validation, x-test)
    let r = eval_name(&space, "nb201:dataset=cifar10,epochs=200", ARCH6111, 0);
    assert_eq!((r.reward, r.reported, r.cost), (91.606667, 94.373333, 2879.749334));
    let r = eval_name(&space, "nb201:dataset=cifar100,epochs=200", ARCH0, 0);
    assert_eq!((r.reward, r.reported), (52.7, 52.913333));
    let r = eval_name(&space, "nb201:dataset=ImageNet16-120,epochs=200", ARCH0, 0);
    assert_eq!((r.reward, r.reported), (28.211111, 26.633333));
    let r = eval_name(&space, "nb201:dataset=cifar100", ARCH6111, 0);
    assert_eq!((r.reward, r.reported), (60.2, 73.22));
    // per-seed noise: one of the three 200-epoch seeds (index 0: 82.092, 81.616, 82.24)
    let mut seen = std::collections::BTreeSet::new();
    for id in 0..64 {
        let r = eval_name(&space, "nb201:dataset=cifar10,epochs=200,noise=seed", ARCH0, id);
        assert!([82.092, 81.616, 82.24].contains(&r.reward), "{}", r.reward);
        assert_eq!(r.reported, 85.863333);
        seen.insert(r.reward.to_bits());
        // a pure function of (seed, id)
        assert_eq!(r, eval_name(&space, "nb201:dataset=cifar10,epochs=200,noise=seed", ARCH0, id));
    }
    assert_eq!(seen.len(), 3);
    // CIFAR-100 noise: mean validation + that seed's valtest deviation (valtest seeds 51.93, 53.38, 53.11; mean 52.806667)
    let r = eval_name(&space, "nb201:dataset=cifar100,epochs=200,noise=seed", ARCH0, 5);
    let dev = [51.93, 53.38, 53.11].map(|s| 52.7 + (s - 52.806667));
    assert!(dev.contains(&r.reward), "{}", r.reward);
    // bad options and a space that does not print NB201 arch strings
    assert!(eval::make("nb201:dataset=mnist", &space).is_err());
    assert!(eval::make("nb201:epochs=12,noise=seed", &space).is_err());
    assert!(eval::make("nb201:colour=red", &space).is_err());
    let (macro_space, _) = common::space("nas_bench_macro.nas", &[]);
    assert!(eval::make("nb201", &macro_space).err().unwrap().to_string().contains("arch strings"));
}

#[test]
fn macro_benchmarks_known_values() {
    let (s, _) = space("nas_bench_macro.nas", &[]);
    let r = eval_name(&s, "nas-bench-macro", "00000000", 0);
    assert_eq!((r.reward, r.reported), (45.363332, 45.363332));
    let r = eval_name(&s, "nas-bench-macro", "22212202", 0);
    assert_eq!(r.reward, 93.126663);
    let r = eval_name(&s, "nas-bench-macro:noise=seed", "00000000", 3);
    assert!([45.32, 45.33, 45.44].contains(&r.reward));
    let (m, _) = space("channel_bench_macro_mobilenet.nas", &[]);
    assert_eq!(eval_name(&m, "channel-bench-macro-mobilenet", "1111111", 0).reward, 89.286664);
    assert_eq!(eval_name(&m, "channel-bench-macro-mobilenet", "4444342", 0).reward, 91.886663);
    let (r, _) = space("channel_bench_macro_resnet.nas", &[]);
    assert_eq!(eval_name(&r, "channel-bench-macro-resnet", "1111111", 0).reward, 91.699997);
    assert_eq!(eval_name(&r, "channel-bench-macro-resnet", "4344424", 0).reward, 93.893328);
    // default evaluators by space name
    assert_eq!(eval::default_for(&s).as_deref(), Some("nas-bench-macro"));
    let (nb, _) = space("nb201.nas", &[]);
    assert_eq!(eval::default_for(&nb).as_deref(), Some("nb201:dataset=cifar10"));
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path).unwrap().lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect()
}

#[test]
fn embedded_tables_equal_the_shared_csvs() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if !shared.join("nas-bench-201/nb201_tss.csv").is_file() {
        eprintln!("note: {} is absent; skipping the cross-check against the source CSVs", shared.display());
        return;
    }
    let (space, _) = space("nb201.nas", &[]);
    // nb201_tss.csv columns (see SOURCE.md)
    let rows = read_csv(&shared.join("nas-bench-201/nb201_tss.csv"));
    assert_eq!(rows.len(), 15_625);
    let cases = [
        ("cifar10", "12", 13, 5, 22), // reward column, reported column, time column
        ("cifar10", "200", 8, 5, 22),
        ("cifar100", "12", 15, 6, 23),
        ("cifar100", "200", 11, 6, 23),
        ("ImageNet16-120", "12", 17, 7, 24),
        ("ImageNet16-120", "200", 12, 7, 24),
    ];
    for (ds, ep, rc, tc, timec) in cases {
        let name = format!("nb201:dataset={ds},epochs={ep}");
        let mut ev = eval::make(&name, &space).unwrap();
        let cands: Vec<_> = rows.iter().map(|r| space.parse_name(&r[1]).unwrap()).collect();
        let reqs: Vec<EvalRequest> = cands.iter().enumerate().map(|(i, c)| EvalRequest { id: i as u64, candidate: c, seed: 0 }).collect();
        let res = ev.evaluate(&space, &reqs);
        for (i, (r, row)) in res.into_iter().zip(&rows).enumerate() {
            let r = r.unwrap();
            let p = |k: usize| row[k].parse::<f64>().unwrap();
            assert_eq!(r.reward, p(rc), "{name} row {i}");
            assert_eq!(r.reported, p(tc), "{name} row {i}");
            assert_eq!(r.cost, p(timec) * (ep.parse::<f64>().unwrap() / 200.0), "{name} row {i}");
            assert_eq!(r.metrics[5], i as f64, "{name}: row {i} found at another index");
        }
    }
    for (spec, ev, file) in [
        ("nas_bench_macro.nas", "nas-bench-macro", "nas-bench-macro/nas_bench_macro_cifar10.csv"),
        ("channel_bench_macro_mobilenet.nas", "channel-bench-macro-mobilenet", "channel-bench-macro/channel_bench_macro_mobilenet_cifar10.csv"),
        ("channel_bench_macro_resnet.nas", "channel-bench-macro-resnet", "channel-bench-macro/channel_bench_macro_resnet_cifar10.csv"),
    ] {
        let (s, _) = common::space(spec, &[]);
        let rows = read_csv(&shared.join(file));
        for (i, row) in rows.iter().enumerate() {
            let r = eval_name(&s, ev, &row[0], i as u64);
            assert_eq!(r.reward, row[5].parse::<f64>().unwrap(), "{ev} {}", row[0]);
            assert_eq!(r.metrics[1], row[6].parse::<f64>().unwrap(), "{ev} {}", row[0]);
        }
    }
}
