fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(256);
    let stack: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(2<<20);
    let kind = std::env::args().nth(3).unwrap_or("parens".into());
    std::thread::Builder::new().stack_size(stack).spawn(move || {
        let src = match kind.as_str() {
            "parens" => format!("param a = {}1{};", "(".repeat(n), ")".repeat(n)),
            "calls" => format!("param a = {}1{};", "f(".repeat(n), ")".repeat(n)),
            "lists" => format!("param a = {}1{};", "[".repeat(n), "]".repeat(n)),
            "ifexpr" => format!("param a = {}1{};", "if a { ".repeat(n), " } else { 2 }".repeat(n)),
            _ => format!("network {{ {} return 1; }}", "for i in x { ".repeat(n-1) + &"}".repeat(n-1)),
        };
        let r = nasc_grammar::parse::debug_pest(&src);
        println!("{kind} {n} {stack}: {r}");
    }).unwrap().join().unwrap();
}
