fn main() {
    let p = std::env::args().nth(1).unwrap_or_default();
    let t = std::fs::read_to_string(p).unwrap_or_default();
    let (s, d) = nasc_grammar::parse(&t);
    println!("{:#?}\n{:?}", s, d);
}
