//! The spec zoo: exact sizes against independently computed counts (the counting argument of
//! each spec's header, evaluated here with big integers), published params of known
//! architectures, and insta snapshots of the `explain` summary of every zoo spec.
use nasc_tests::{compile_zoo, metric, ZOO};
use num_bigint::BigUint;

fn big(n: u64) -> BigUint {
    BigUint::from(n)
}

fn pow(b: u64, e: u32) -> BigUint {
    big(b).pow(e)
}

/// C(n, k) as a big integer.
fn binom(n: u64, k: u64) -> BigUint {
    (0..k).fold(big(1), |acc, i| acc * big(n - i) / big(i + 1))
}

fn size_of(spec: &str) -> String {
    compile_zoo(spec, &[]).size().to_string()
}

#[test]
fn benchmark_spaces_have_their_sizes() {
    assert_eq!(size_of("nb201"), pow(5, 6).to_string());
    assert_eq!(size_of("nas_bench_macro"), pow(3, 8).to_string());
    assert_eq!(size_of("channel_bench_macro_mobilenet"), pow(4, 7).to_string());
    assert_eq!(size_of("channel_bench_macro_resnet"), pow(4, 7).to_string());
    // the README tutorial: 3 kernels x 3 widths per layer, 3 layers
    assert_eq!(size_of("tiny"), pow(3, 6).to_string());
    assert_eq!(size_of("tiny"), "729");
}

#[test]
fn fairnas_is_6_pow_19() {
    let s = size_of("fairnas");
    assert_eq!(s, pow(6, 19).to_string());
    assert_eq!(s, "609359740010496");
}

#[test]
fn ofa_mbv3_is_the_ofa_count() {
    // per unit: depth d in {2, 3, 4}, 3 kernels x 3 expansions per layer; 5 units
    let unit = pow(3 * 3, 2) + pow(3 * 3, 3) + pow(3 * 3, 4);
    let expect = unit.pow(5);
    assert_eq!(size_of("ofa_mbv3"), expect.to_string());
    // the paper's "about 2 x 10^19"
    assert_eq!(expect.to_string().len(), 20);
    assert!(expect.to_string().starts_with("2175"));
}

#[test]
fn mobilenet_v2_layernas_count() {
    // 7 blocks x 4 base-filter options, 17 layers x 3 kernels, 16 layers x 5 expansions
    let expect = pow(4, 7) * pow(3, 17) * pow(5, 16);
    assert_eq!(size_of("mobilenet_v2_layernas"), expect.to_string());
}

#[test]
fn darts_count_is_two_cells_of_input_subsets_and_edge_ops() {
    // node j: C(j + 2, 2) input subsets of size 2, 7 ops on each of its 2 edges; two cells
    let cell = (0..4u64).fold(big(1), |acc, j| acc * binom(j + 2, 2) * pow(7, 2));
    assert_eq!(cell, binom(2, 2) * binom(3, 2) * binom(4, 2) * binom(5, 2) * pow(7, 8));
    assert_eq!(cell.to_string(), "1037664180");
    let expect = cell.pow(2);
    assert_eq!(size_of("darts"), expect.to_string());
}

#[test]
fn nse_count_is_appendix_a4() {
    // A.4: Comb_norm = sum_{k=0..5} C(27, k), Comb_redu = sum_{k=1..5} C(27, k);
    // 16 normal and 6 reduction layers
    let norm = (0..=5u64).fold(big(0), |acc, k| acc + binom(27, k));
    let redu = (1..=5u64).fold(big(0), |acc, k| acc + binom(27, k));
    assert_eq!((norm.to_string().as_str(), redu.to_string().as_str()), ("101584", "101583"));
    let expect = norm.pow(16) * redu.pow(6);
    let got = size_of("nse_multibranch_27ops");
    assert_eq!(got, expect.to_string());
    // the paper's "approximately 1.4 x 10^110": 111 digits, leading digits 14
    assert_eq!(got.len(), 111);
    assert!(got.starts_with("14"));
}

#[test]
fn nse_small_count_is_the_subsets_of_at_most_k_ops() {
    // 16 ops, K = 4: 3 normal layers (0..=4 ops) and 2 reduction layers (1..=4 ops)
    let norm = (0..=4u64).fold(big(0), |acc, k| acc + binom(16, k));
    let redu = (1..=4u64).fold(big(0), |acc, k| acc + binom(16, k));
    assert_eq!(size_of("nse_small"), (norm.pow(3) * redu.pow(2)).to_string());
}

#[test]
fn popnas_count_is_the_sum_over_block_counts() {
    // block c (0-based) reads one of c + 2 inputs with one of 12 ops, twice; 1..5 blocks
    let mut expect = big(0);
    let mut cells = big(1);
    for c in 0..5u64 {
        cells *= pow(12 * (c + 2), 2);
        expect += &cells;
    }
    assert_eq!(size_of("popnas_cell"), expect.to_string());
    assert_eq!(expect.to_string(), "32104155070817856");
}

#[test]
fn published_architectures_have_their_params() {
    // DARTS (V2) genotype, CIFAR-10, C = 36, 20 cells: "param size = 3.349342MB" (3.3M)
    let s = compile_zoo("darts", &[]);
    let v2 = "normal_in[0]={0+1},normal_in[1]={0+1},normal_in[2]={0+1},normal_in[3]={0+2},\
        normal_op[0][0]=sep_conv_3x3,normal_op[0][1]=sep_conv_3x3,normal_op[1][0]=sep_conv_3x3,\
        normal_op[1][1]=sep_conv_3x3,normal_op[2][0]=skip_connect,normal_op[2][1]=sep_conv_3x3,\
        normal_op[3][0]=skip_connect,normal_op[3][2]=dil_conv_3x3,\
        reduce_in[0]={0+1},reduce_in[1]={1+2},reduce_in[2]={0+2},reduce_in[3]={1+2},\
        reduce_op[0][0]=max_pool_3x3,reduce_op[0][1]=max_pool_3x3,reduce_op[1][1]=max_pool_3x3,\
        reduce_op[1][2]=skip_connect,reduce_op[2][0]=max_pool_3x3,reduce_op[2][2]=skip_connect,\
        reduce_op[3][1]=max_pool_3x3,reduce_op[3][2]=skip_connect";
    let c = s.parse_name(v2).expect("DARTS V2 parses");
    assert_eq!(metric(&s, &c, "params"), 3_349_342.0);

    // the default of the LayerNAS space is MobileNetV2 1.0 (torchvision: 3,504,872 params)
    let s = compile_zoo("mobilenet_v2_layernas", &[]);
    let c = s.default_candidate();
    assert_eq!(metric(&s, &c, "params"), 3_504_872.0);
    assert!((metric(&s, &c, "flops") / 1e6 - 300.0).abs() < 1.0, "MobileNetV2: 300M MAdds");

    // FairNAS-A (released encoding): 4.6M params, 388M MAdds in the paper
    let s = compile_zoo("fairnas", &[]);
    let c = s.parse_name("2023500551330053534").expect("FairNAS-A parses");
    assert_eq!(metric(&s, &c, "params"), 4_619_096.0);
    assert!((metric(&s, &c, "flops") / 1e6 - 388.0).abs() < 5.0);

    // OFA's full MobileNetV3 network (depth 4, kernel 7, expansion 6 everywhere): 7.7M params
    let s = compile_zoo("ofa_mbv3", &[]);
    let c = s.default_candidate();
    assert!((metric(&s, &c, "params") / 1e6 - 7.7).abs() < 0.05);

    // EfficientNet-B0: torchvision's `efficientnet_b0` has 5,288,548 params, "0.39 GFLOPS"
    let s = compile_zoo("efficientnet_b0", &[]);
    let c = s.default_candidate();
    assert_eq!(metric(&s, &c, "params"), 5_288_548.0);
    assert!((metric(&s, &c, "flops") / 1e9 - 0.39).abs() < 0.005);
}

/// The zoo and the tutorial spec.
fn specs() -> impl Iterator<Item = &'static str> {
    ZOO.into_iter().chain(["tiny"])
}

#[test]
fn explain_snapshots() {
    for spec in specs() {
        let s = compile_zoo(spec, &[]);
        insta::assert_snapshot!(spec, s.explain_text());
    }
}

/// Every spec shipped in specs/ compiles without a single diagnostic, warnings included.
#[test]
fn every_shipped_spec_is_warning_free() {
    let mut names: Vec<String> =
        std::fs::read_dir(nasc_tests::root().join("specs")).expect("specs/").filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".nas").map(String::from)).collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    for name in &names {
        compile_zoo(name, &[]);
    }
}
