fn run(name: &str, src: String) {
    if let Some(only) = std::env::args().nth(3) { if only != name { return; } }
    eprintln!("start {name}");
    let (spec, diags) = nasc_grammar::parse(&src);
    println!("{name}: items={} diags={:?}", spec.items.len(), diags.iter().map(|d| (&d.code, &d.message)).collect::<Vec<_>>());
}
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(256);
    let stack: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(2<<20);
    std::thread::Builder::new().stack_size(stack).spawn(move || {
        run("parens", format!("param a = {}1{};", "(".repeat(n), ")".repeat(n)));
        run("lists", format!("param a = {}1{};", "[".repeat(n), "]".repeat(n)));
        run("calls", format!("param a = {}1{};", "f(".repeat(n), ")".repeat(n)));
        run("index", format!("param a = x{};", "[1]".repeat(n)));
        run("ifexpr", format!("param a = {}1{};", "if a { ".repeat(n), " } else { 2 }".repeat(n)));
        run("for", format!("network {{ {} return 1; }}", "for i in x { ".repeat(n-1) + &"}".repeat(n-1)));
        run("neg", format!("param a = {}1;", "-".repeat(100000)));
        run("pow", format!("param a = 1{};", " ** 2".repeat(100000)));
        run("add", format!("param a = 1{};", " + 2".repeat(100000)));
        run("elseif", format!("network {{ if a {{}} {} return 1; }}", "else if b {} ".repeat(100000)));
        run("mixed", format!("param a = {}1{};", "-(".repeat(n), ")".repeat(n)));
    }).unwrap().join().unwrap();
}
