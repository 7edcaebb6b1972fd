//! Soak test of the PostgreSQL store: one `nasc search` and three `nasc worker` processes on one
//! run, with a command evaluator that sleeps 20-50 ms; every ~1.5 s a random process (the
//! creator included) is killed with SIGKILL and a new worker started; the PostgreSQL server is
//! restarted once mid-run. At the end: exactly the budget of finished trials, no trial id
//! finished twice, every killed trial run again, and the run's status `finished`.
//!
//! It starts its own throwaway cluster with `.ci/pg_cluster.sh` (it restarts the server), so it
//! needs the PostgreSQL server binaries; without them it fails, unless `NASC_SKIP_PG=1`.
use postgres::{Client, NoTls};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");
const BUDGET: i64 = 1200;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The throwaway cluster, stopped and removed on drop.
struct Cluster {
    dir: PathBuf,
    url: String,
}

impl Cluster {
    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new(root().join(".ci/pg_cluster.sh")).args(args).output().expect("run .ci/pg_cluster.sh")
    }
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!("nasc-pg-soak-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chmod").args(["755", &dir.display().to_string()]).status();
        let port = 40000 + std::process::id() % 20000;
        let mut c = Cluster { dir, url: String::new() };
        let data = c.dir.join("data").display().to_string();
        let out = c.script(&["start", &data, &port.to_string()]);
        assert!(out.status.success(), "cannot start a PostgreSQL cluster (install the `postgresql` package, or NASC_SKIP_PG=1 to skip): {}", String::from_utf8_lossy(&out.stderr));
        c.url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        c
    }
    fn restart(&self) {
        let out = self.script(&["restart", &self.dir.join("data").display().to_string()]);
        assert!(out.status.success(), "restart: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.script(&["stop", &self.dir.join("data").display().to_string()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A small counter-based RNG for the choice of victims.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn spawn(args: &[String], log: &Path) -> Child {
    let f = std::fs::File::create(log).unwrap();
    Command::new(NASC).args(args).current_dir(root()).env("NASC_PG_RECONNECT_SECONDS", "60").stdout(Stdio::null()).stderr(Stdio::from(f)).spawn().expect("start nasc")
}

/// Query, reconnecting while the server restarts.
fn query<T>(url: &str, db: &mut Option<Client>, f: impl Fn(&mut Client) -> Result<T, postgres::Error>) -> Option<T> {
    if db.as_ref().is_none_or(Client::is_closed) {
        *db = Client::connect(url, NoTls).ok();
    }
    let r = f(db.as_mut()?);
    if r.is_err() {
        *db = None;
    }
    r.ok()
}

#[test]
fn kill_nine_and_a_server_restart_lose_and_repeat_nothing() {
    if std::env::var("NASC_SKIP_PG").is_ok_and(|v| v == "1") {
        eprintln!("NASC_SKIP_PG=1: skipping the PostgreSQL soak test");
        return;
    }
    let cluster = Cluster::start();
    let url = cluster.url.clone();
    let run = "soak";
    let logs = cluster.dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // sleeps 20 to 49 ms, by trial id
    let ev = r#"command:sh -c 'sleep 0.0$(( NASC_TRIAL_ID * 7 % 30 + 20 )); echo "{\"reward\": 0.5}"'"#;
    let trials = cluster.dir.join("trials").display().to_string();
    let search: Vec<String> = ["search", "specs/tiny.nas", "--strategy", "re", "--evaluator", ev, "--budget", &BUDGET.to_string(), "--store", &url, "--run", run]
        .iter()
        .map(|s| s.to_string())
        .chain(["--lease-timeout", "1", "--max-retries", "100", "--quiet"].iter().map(|s| s.to_string()))
        .collect();
    let worker: Vec<String> = ["worker", "--store", &url, "--run", run, "--trials-dir", &trials].iter().map(|s| s.to_string()).collect();
    let mut n_log = 0;
    let mut log = || {
        n_log += 1;
        logs.join(format!("{n_log}.log"))
    };
    let mut procs: Vec<Child> = vec![spawn(&search, &log())];
    let mut db: Option<Client> = None;
    let started = Instant::now();
    while query(&url, &mut db, |c| c.query_opt("SELECT 1 FROM nasc_runs WHERE name = $1", &[&run])).flatten().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "the run was not created");
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..3 {
        procs.push(spawn(&worker, &log()));
    }
    let mut rng = Lcg(started.elapsed().as_nanos() as u64 | 1);
    let (mut kills, mut restarted, mut exited_ok) = (0, false, 0);
    loop {
        std::thread::sleep(Duration::from_millis(1500));
        let status = query(&url, &mut db, |c| c.query_one("SELECT status, done FROM nasc_runs WHERE name = $1", &[&run])).map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
        if status.as_ref().is_some_and(|(s, _)| s != "running") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "the run did not finish in 240 s: {status:?}, logs in {}", logs.display());
        let done = status.map_or(0, |s| s.1);
        if !restarted && kills >= 2 && done > BUDGET / 3 {
            cluster.restart();
            restarted = true;
            continue;
        }
        // a worker that exited by itself must have exited cleanly
        procs.retain_mut(|p| match p.try_wait() {
            Ok(Some(s)) => {
                assert!(s.success(), "a worker exited with {s} (logs in {})", logs.display());
                exited_ok += 1;
                false
            }
            _ => true,
        });
        if !procs.is_empty() {
            let i = rng.below(procs.len());
            let mut p = procs.remove(i);
            let _ = p.kill();
            let _ = p.wait();
            kills += 1;
        }
        procs.push(spawn(&worker, &log()));
    }
    for mut p in procs {
        let s = p.wait().unwrap();
        assert!(s.success(), "a worker exited with {s} after the run finished (logs in {})", logs.display());
    }
    assert!(restarted, "the server was not restarted (the run finished too early)");
    assert!(kills >= 3, "only {kills} kills");
    let mut c = Client::connect(&url, NoTls).unwrap();
    let r = c.query_one("SELECT status, done, next_id FROM nasc_runs WHERE name = $1", &[&run]).unwrap();
    assert_eq!((r.get::<_, String>(0), r.get::<_, i64>(1)), ("finished".to_string(), BUDGET));
    let r = c
        .query_one(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT seq), min(seq), max(seq), count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE attempts > 1) FROM nasc_trials WHERE run = $1 AND state = 'finished'",
            &[&run],
        )
        .unwrap();
    let got: Vec<i64> = (0..7).map(|i| r.get(i)).collect();
    assert_eq!(&got[..6], &[BUDGET, BUDGET, BUDGET, 0, BUDGET - 1, BUDGET], "finished, distinct ids, distinct seqs, seq range, ok");
    // every trial asked is finished; the killed ones ran again
    let open: i64 = c.query_one("SELECT count(*) FROM nasc_trials WHERE run = $1 AND state <> 'finished'", &[&run]).unwrap().get(0);
    assert_eq!(open, 0);
    assert!(got[6] > 0, "no trial was re-run after {kills} kills");
    eprintln!("soak: {kills} kills, 1 restart, {} trials re-run, {exited_ok} workers exited on their own, {:.1} s", got[6], started.elapsed().as_secs_f64());
}
