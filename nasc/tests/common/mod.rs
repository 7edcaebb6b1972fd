//! Helpers shared by the CLI tests.
use std::time::Duration;

/// The peak resident memory of a process (kB, its `VmHWM`), followed until it ends.
pub fn peak_rss(mut child: std::process::Child) -> (u64, std::process::ExitStatus) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) {
                peak = peak.max(kb);
            }
        }
        if let Some(st) = child.try_wait().expect("wait for the child") {
            return (peak, st);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
