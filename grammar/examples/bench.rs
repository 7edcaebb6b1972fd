//! Rough parser timings: `cargo run --release -p nasc-grammar --example bench`.
fn main() {
    let src = include_str!("../tests/data/nb201_example.nas");
    let t = std::time::Instant::now();
    for _ in 0..100 {
        let _ = nasc_grammar::parse(src);
    }
    println!("example ({} bytes): {:?} per parse", src.len(), t.elapsed() / 100);
    let big = src.repeat(200);
    let t = std::time::Instant::now();
    let (spec, d) = nasc_grammar::parse(&big);
    println!("x200 ({} KB): {:?}, {} items, {} diagnostics", big.len() / 1024, t.elapsed(), spec.items.len(), d.len());
    let garbage: String = (0..20000).map(|i| if i % 7 == 0 { "\nparam x = ( ;" } else { " foo" }).collect();
    let t = std::time::Instant::now();
    let (_, d) = nasc_grammar::parse(&garbage);
    println!("broken ({} KB): {:?}, {} diagnostics", garbage.len() / 1024, t.elapsed(), d.len());
}
