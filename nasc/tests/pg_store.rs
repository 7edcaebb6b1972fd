//! The PostgreSQL store end to end on a real server (`NASC_PG_URL`, which `.ci/run` starts; the
//! tests fail when it is not set, unless `NASC_SKIP_PG=1`): a search and workers sharing a run,
//! a worker whose lease expired (SIGSTOP) getting its result refused and going on, a trial failed
//! after `max_retries` lost leases (kill -9), the report of a PostgreSQL run, and every refusal.
use postgres::{Client, NoTls};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server's URL, or None when the tests are skipped on purpose.
fn url() -> Option<String> {
    if std::env::var("NASC_SKIP_PG").is_ok_and(|v| v == "1") {
        eprintln!("NASC_SKIP_PG=1: skipping the PostgreSQL tests");
        return None;
    }
    match std::env::var("NASC_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => panic!("NASC_PG_URL is not set: these tests need a PostgreSQL server (`.ci/run` starts one; `.ci/pg_cluster.sh start DIR PORT` prints its URL), or NASC_SKIP_PG=1 to skip them"),
    }
}

/// A run name unique to this test process.
fn run_name(test: &str) -> String {
    format!("{test}-{}-{}", std::process::id(), Instant::now().elapsed().as_nanos())
}

fn db(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

fn nasc(args: &[&str]) -> Output {
    Command::new(NASC).args(args).current_dir(root()).env("NASC_PG_RECONNECT_SECONDS", "3").output().expect("run nasc")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(NASC).args(args).current_dir(root()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start nasc")
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// (finished trials, distinct seqs, distinct ids, run status, run done).
fn counts(c: &mut Client, run: &str) -> (i64, i64, i64, String, i64) {
    let r = c.query_one("SELECT count(*), count(DISTINCT seq), count(DISTINCT id) FROM nasc_trials WHERE run = $1 AND state = 'finished'", &[&run]).unwrap();
    let s = c.query_one("SELECT status, done FROM nasc_runs WHERE name = $1", &[&run]).unwrap();
    (r.get(0), r.get(1), r.get(2), s.get(0), s.get(1))
}

/// Waits until `f` holds; a query before the first process made the schema (a fresh database)
/// counts as "not yet" (`.ok()` in the callers).
fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until run `run` exists (its creator made it).
fn wait_for_run(c: &mut Client, run: &str) {
    wait_for("the run", Duration::from_secs(30), || c.query_opt("SELECT 1 FROM nasc_runs WHERE name = $1", &[&run]).ok().flatten().is_some());
}

const SLEEP2: &str = r#"command:sh -c 'sleep 2; echo "{\"reward\": 0.5}"'"#;

#[test]
fn a_search_and_two_workers_finish_the_budget_once() {
    let Some(url) = url() else { return };
    let run = run_name("share");
    let s = spawn(&["search", "specs/nb201.nas", "--evaluator", "instant", "--strategy", "re", "--budget", "3000", "--store", &url, "--run", &run, "--quiet", "--workers", "2"]);
    let mut c = db(&url);
    wait_for_run(&mut c, &run);
    let w: Vec<Child> = (0..2).map(|_| spawn(&["worker", "--store", &url, "--run", &run, "--quiet"])).collect();
    let out = s.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("budget reached (3000 trials)"), "{}", text(&out));
    for w in w {
        let o = w.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(counts(&mut c, &run), (3000, 3000, 3000, "finished".into(), 3000));
    let seqs: (i64, i64) = {
        let r = c.query_one("SELECT min(seq), max(seq) FROM nasc_trials WHERE run = $1", &[&run]).unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(seqs, (0, 2999));
    // the report reads it like a SQLite run
    let o = nasc(&["report", &url, "--run", &run, "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["trials"], 3000, "{j}");
    assert_eq!(j["status"], "finished");
    // a worker joining a finished run has nothing to do
    let o = nasc(&["worker", "--store", &url, "--run", &run]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stderr).contains("is finished; nothing to do"), "{}", text(&o));
}

#[test]
fn a_worker_that_lost_its_lease_gets_its_result_refused_and_goes_on() {
    let Some(url) = url() else { return };
    let run = run_name("stale");
    let a = spawn(&["search", "specs/tiny.nas", "--evaluator", SLEEP2, "--strategy", "rs", "--budget", "1", "--store", &url, "--run", &run, "--lease-timeout", "0.5"]);
    let mut c = db(&url);
    let running =
        |c: &mut Client| c.query_opt("SELECT attempts FROM nasc_trials WHERE run = $1 AND id = 0 AND state = 'running'", &[&run]).ok().flatten().map(|r| r.get::<_, i32>(0));
    wait_for("trial 0 to run", Duration::from_secs(30), || running(&mut c) == Some(1));
    // stop the search process (not its child): its heartbeats stop, its lease expires
    let pid = a.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(1200));
    let b = nasc(&["worker", "--store", &url, "--run", &run]);
    assert!(b.status.success(), "{}", text(&b));
    assert!(String::from_utf8_lossy(&b.stderr).contains("re-queued trials [0]"), "{}", text(&b));
    assert!(Command::new("kill").args(["-CONT", &pid]).status().unwrap().success());
    let out = a.wait_with_output().unwrap();
    assert!(out.status.success(), "the first worker goes on after its result is refused: {}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the result of trial 0 was refused"), "{}", text(&out));
    assert_eq!(counts(&mut c, &run), (1, 1, 1, "finished".into(), 1));
    let attempts: i32 = c.query_one("SELECT attempts FROM nasc_trials WHERE run = $1 AND id = 0", &[&run]).unwrap().get(0);
    assert_eq!(attempts, 2);
}

#[test]
fn a_trial_whose_lease_expires_more_than_max_retries_times_fails() {
    let Some(url) = url() else { return };
    let run = run_name("retries");
    let mut a = spawn(&[
        "search",
        "specs/tiny.nas",
        "--evaluator",
        SLEEP2,
        "--strategy",
        "rs",
        "--budget",
        "1",
        "--store",
        &url,
        "--run",
        &run,
        "--lease-timeout",
        "0.3",
        "--max-retries",
        "0",
    ]);
    let mut c = db(&url);
    wait_for("trial 0 to run", Duration::from_secs(30), || {
        c.query_opt("SELECT 1 FROM nasc_trials WHERE run = $1 AND id = 0 AND state = 'running'", &[&run]).ok().flatten().is_some()
    });
    a.kill().unwrap();
    a.wait().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let b = nasc(&["worker", "--store", &url, "--run", &run]);
    assert!(b.status.success(), "{}", text(&b));
    assert_eq!(counts(&mut c, &run), (1, 1, 1, "finished".into(), 1));
    let r = c.query_one("SELECT status, error FROM nasc_trials WHERE run = $1 AND id = 0", &[&run]).unwrap();
    assert_eq!(r.get::<_, String>(0), "failed");
    assert!(r.get::<_, String>(1).contains("the lease expired on each of 1 attempts"), "{:?}", r.get::<_, String>(1));
}

/// `--target`: the run finishes at the first reward that reaches it, with fewer trials than its
/// budget; the report says why.
#[test]
fn a_run_stops_at_its_target() {
    let Some(url) = url() else { return };
    let run = run_name("target");
    // `instant` rewards are a hash of the candidate in [0, 1): 0.99 is reached within a few
    // hundred trials, far from the budget
    let o = nasc(&[
        "search",
        "specs/nb201.nas",
        "--evaluator",
        "instant",
        "--strategy",
        "rs",
        "--budget",
        "15000",
        "--target",
        "0.99",
        "--store",
        &url,
        "--run",
        &run,
        "--quiet",
        "--workers",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("target reached"), "{}", text(&o));
    let mut c = db(&url);
    let (done, seqs, ids, status, run_done) = counts(&mut c, &run);
    assert_eq!(status, "finished");
    assert!(done < 15000 && done == seqs && done == ids && done == run_done, "{done} {seqs} {ids} {run_done}");
    let best: f64 = c.query_one("SELECT max(reward) FROM nasc_trials WHERE run = $1", &[&run]).unwrap().get(0);
    assert!(best >= 0.99, "{best}");
    let open: i64 = c.query_one("SELECT count(*) FROM nasc_trials WHERE run = $1 AND state <> 'finished'", &[&run]).unwrap().get(0);
    assert_eq!(open, 0, "every asked trial finished");
    let o = nasc(&["report", &url, "--run", &run, "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["stop_reason"], "target", "{j}");
}

/// `--time-budget` with a wall-clock evaluator: wall seconds since the run was created (the
/// database's clock); no trial is asked after it, the ones asked before finish, then the run
/// is finished.
#[test]
fn a_time_budget_is_wall_seconds_of_the_database_clock() {
    let Some(url) = url() else { return };
    let run = run_name("time");
    let t = Instant::now();
    let o = nasc(&[
        "search",
        "specs/nb201.nas",
        "--evaluator",
        r#"command:sh -c 'sleep 0.2; echo "{\"reward\": 0.5}"'"#,
        "--strategy",
        "rs",
        "--time-budget",
        "2",
        "--store",
        &url,
        "--run",
        &run,
        "--quiet",
        "--workers",
        "2",
    ]);
    let took = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("time budget reached"), "{}", text(&o));
    let mut c = db(&url);
    let (done, seqs, ids, status, _) = counts(&mut c, &run);
    assert_eq!(status, "finished");
    let failed: i64 = c.query_one("SELECT count(*) FROM nasc_trials WHERE run = $1 AND status <> 'ok'", &[&run]).unwrap().get(0);
    assert_eq!(failed, 0);
    // 2 workers x 2 s / 0.2 s: about 20 trials (a few less for process starts)
    assert!((4..=24).contains(&done) && done == seqs && done == ids, "{done} trials");
    assert!((2.0..10.0).contains(&took), "took {took} s");
    let late: i64 = c.query_one("SELECT count(*) FROM nasc_trials WHERE run = $1 AND sim_start > 2.0", &[&run]).unwrap().get(0);
    assert_eq!(late, 0, "a trial was asked after the time budget");
}

/// A database at schema version 1 (before `target`) is migrated on the first connection and its
/// runs go on; one newer than this nasc is refused.
#[test]
fn an_older_schema_is_migrated_and_a_newer_one_refused() {
    let Some(url) = url() else { return };
    let name = format!("nasc_mig_{}", std::process::id());
    let mut admin = db(&url);
    // one statement each: a multi-statement batch is a transaction, which DROP DATABASE refuses
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let mig_url = format!("{}/{name}", url.rsplit_once('/').unwrap().0);
    let mut c = db(&mig_url);
    c.batch_execute("CREATE TABLE nasc_schema (version INTEGER NOT NULL); INSERT INTO nasc_schema VALUES (1);").unwrap();
    c.batch_execute(nasc_runtime::store::pg::schema::MIGRATIONS[0]).unwrap();
    let o = nasc(&["search", "specs/nb201.nas", "--evaluator", "instant", "--budget", "5", "--store", &mig_url, "--run", "old", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: i32 = c.query_one("SELECT version FROM nasc_schema", &[]).unwrap().get(0);
    assert_eq!(v, nasc_runtime::store::pg::schema::VERSION);
    assert_eq!(counts(&mut c, "old"), (5, 5, 5, "finished".into(), 5));
    c.execute("UPDATE nasc_schema SET version = 99", &[]).unwrap();
    let o = nasc(&["report", &mig_url, "--run", "old"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("99"), "{}", text(&o));
    drop(c);
    admin.batch_execute(&format!("DROP DATABASE {name}")).unwrap();
}

#[test]
fn refusals() {
    let Some(url) = url() else { return };
    let run = run_name("refuse");
    let base = ["search", "specs/nb201.nas", "--evaluator", "instant", "--budget", "5", "--quiet", "--store"];
    let with = |extra: &[&str]| -> Output {
        let mut v: Vec<&str> = base.to_vec();
        v.push(&url);
        v.extend(extra);
        nasc(&v)
    };
    for (args, want) in [
        (vec![], "name this one with `--run NAME`"),
        (vec!["--run", ""], "run name ``: empty"),
        (vec!["--run", &run, "--space-from", &url], "name the run in the database after a `#`"),
        (vec!["--run", &run, "--space-from", &format!("{url}#no-such-run-nasc")], "run `no-such-run-nasc` does not exist"),
        (vec!["--run", &run, "--lease-timeout", "0"], "--lease-timeout must be a positive number"),
        (vec!["--run", &run, "--resume"], &format!("run `{run}` does not exist")),
    ] {
        let o = with(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains(want), "{args:?}: {}", text(&o));
    }
    // simulated seconds have no meaning across machines
    let o = nasc(&["search", "specs/nb201.nas", "--evaluator", "instant", "--time-budget", "10", "--store", &url, "--run", &run]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("budgets simulated seconds, which have no meaning across machines"), "{}", text(&o));
    let o = with(&["--run", &run]);
    assert!(o.status.success(), "{}", text(&o));
    for (args, want) in [
        (vec!["--run", run.as_str()], "already exists"),
        (vec!["--run", run.as_str(), "--resume", "--seed", "4"], "a resumed run keeps its configuration"),
        (vec!["--run", run.as_str(), "--resume", "--dedup"], "a resumed run keeps its configuration"),
        // a run of another strategy has no shrunk space
        (vec!["--run", "other", "--space-from", &format!("{url}#{run}")], "holds no shrunk space: it is a `re` run"),
    ] {
        let o = with(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains(want), "{args:?}: {}", text(&o));
    }
    // a different spec
    let o = nasc(&["search", "specs/nb201.nas", "--set", "C=8", "--store", &url, "--run", &run, "--resume"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("was made from a different spec"), "{}", text(&o));
    // --resume with a larger budget continues it
    let o = nasc(&["search", "specs/nb201.nas", "--store", &url, "--run", &run, "--resume", "--budget", "9", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(counts(&mut db(&url), &run), (9, 9, 9, "finished".into(), 9));
    // --run, --lease-timeout with a SQLite store
    let o = nasc(&["search", "specs/nb201.nas", "--evaluator", "instant", "--store", "/tmp/x.db", "--run", "x"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("apply to a PostgreSQL store"), "{}", text(&o));
    // report and worker
    let o = nasc(&["report", &url]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("choose one with `--run NAME`") && String::from_utf8_lossy(&o.stderr).contains(&run), "{}", text(&o));
    let o = nasc(&["report", "/tmp/none.db", "--run", "x"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--run names a run in a PostgreSQL store"), "{}", text(&o));
    for (args, want) in [
        (vec!["worker", "--store", "/tmp/x.db", "--run", "x"], "needs a PostgreSQL store"),
        (vec!["worker", "--store", &url, "--run", "no-such-run-nasc"], "run `no-such-run-nasc` does not exist"),
        (vec!["worker", "--store", &url, "--run", &run, "--workers", "0"], "--workers must be at least 1"),
        (vec!["worker", "--store", "postgresql://nasc@127.0.0.1:1/nasc", "--run", "x"], "cannot reach PostgreSQL at `postgresql://nasc@127.0.0.1:1/nasc`"),
        (vec!["worker", "--store", "postgresql://nasc@127.0.0.1:99999/nasc", "--run", "x"], "store `postgresql://nasc@127.0.0.1:99999/nasc`"),
    ] {
        let o = nasc(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains(want), "{args:?}: {}", text(&o));
    }
}

#[test]
fn dedup_across_processes_asks_each_key_once() {
    let Some(url) = url() else { return };
    let run = run_name("dedup");
    // regularized evolution on NB-201 repeats cells (and their isomorphs) often; with --dedup no
    // key is asked twice, whichever of the processes asks
    let s = spawn(&[
        "search",
        "specs/nb201.nas",
        "--evaluator",
        "instant",
        "--strategy",
        "re",
        "--budget",
        "3000",
        "--dedup",
        "--store",
        &url,
        "--run",
        &run,
        "--quiet",
        "--workers",
        "2",
    ]);
    let mut c = db(&url);
    wait_for_run(&mut c, &run);
    let w = spawn(&["worker", "--store", &url, "--run", &run, "--quiet", "--workers", "2"]);
    let out = s.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let o = w.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(counts(&mut c, &run), (3000, 3000, 3000, "finished".into(), 3000));
    let r = c.query_one("SELECT count(*), count(key), count(DISTINCT key) FROM nasc_trials WHERE run = $1", &[&run]).unwrap();
    assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2)), (3000, 3000, 3000));
    // the stored keys are the space's keys (`nasc metrics` prints the key of a name)
    let row = c.query_one("SELECT candidate, key FROM nasc_trials WHERE run = $1 AND id = 7", &[&run]).unwrap();
    let (name, key): (String, String) = (row.get(0), row.get(1));
    let names_file = std::env::temp_dir().join(format!("nasc-pg-dedup-{}.txt", std::process::id()));
    std::fs::write(&names_file, format!("{name}\n")).unwrap();
    let o = nasc(&["metrics", "specs/nb201.nas", "--format", "json", "--candidates", names_file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&names_file);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&key), "key `{key}` of `{name}` not in {}", text(&o));
    // the same search without --dedup repeats keys: the check above can fail
    let plain = run_name("nodedup");
    let o = nasc(&["search", "specs/nb201.nas", "--evaluator", "instant", "--strategy", "re", "--budget", "3000", "--store", &url, "--run", &plain, "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let names: Vec<String> = c.query("SELECT candidate FROM nasc_trials WHERE run = $1", &[&plain]).unwrap().iter().map(|r| r.get(0)).collect();
    let distinct: std::collections::HashSet<&String> = names.iter().collect();
    assert!(distinct.len() < 3000, "no repeated candidate in 3000 RE trials without --dedup");
}

#[test]
fn space_from_a_lissnas_run_in_the_database_binds_every_worker() {
    let Some(url) = url() else { return };
    let liss = run_name("liss");
    let o = nasc(&["search", "specs/nb201.nas", "--strategy", "lissnas", "--budget", "100", "--seed", "1", "--store", &url, "--run", &liss, "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    // the same shrunk space read from the database and saved by a SQLite run
    let dir = std::env::temp_dir().join(format!("nasc-pg-space-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sq = dir.join("rs.db").display().to_string();
    let from = format!("{url}#{liss}");
    let o = nasc(&["search", "specs/nb201.nas", "--strategy", "rs", "--space-from", &from, "--budget", "30", "--store", &sq, "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let saved = nasc_runtime::store::SqliteStore::read_space(std::path::Path::new(&sq), nasc_runtime::store::SpaceRole::Input).unwrap().expect("an input space");
    assert!(saved.size > 100 && saved.size < 15_625, "{}", saved.size);
    let members: std::collections::HashSet<String> = saved.members.iter().cloned().collect();
    // a PostgreSQL run restricted to it: the search and a worker that joins only run members
    let run = run_name("from");
    let s = spawn(&["search", "specs/nb201.nas", "--strategy", "rs", "--evaluator", SLOWISH, "--space-from", &from, "--budget", "40", "--store", &url, "--run", &run, "--quiet"]);
    let mut c = db(&url);
    wait_for_run(&mut c, &run);
    let w = nasc(&["worker", "--store", &url, "--run", &run, "--quiet"]);
    assert!(w.status.success(), "{}", text(&w));
    let out = s.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(counts(&mut c, &run), (40, 40, 40, "finished".into(), 40));
    let by_worker: i64 = c.query_one("SELECT count(*) FROM nasc_trials WHERE run = $1", &[&run]).unwrap().get(0);
    assert_eq!(by_worker, 40);
    let genotypes: Vec<String> = c.query("SELECT genotype FROM nasc_trials WHERE run = $1", &[&run]).unwrap().iter().map(|r| r.get(0)).collect();
    assert!(genotypes.iter().all(|g| members.contains(g)), "a trial outside the shrunk space");
    let stored: String = c.query_one("SELECT members FROM nasc_spaces WHERE run = $1 AND role = 'input'", &[&run]).unwrap().get(0);
    let stored: Vec<String> = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored, saved.members);
    // a lissnas run stopped before its first shrinking step has no shrunk space yet
    let early = run_name("liss-early");
    let o = nasc(&["search", "specs/nb201.nas", "--strategy", "lissnas", "--budget", "10", "--store", &url, "--run", &early, "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = nasc(&["search", "specs/nb201.nas", "--space-from", &format!("{url}#{early}"), "--budget", "5", "--store", &url, "--run", &run_name("y"), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stopped before its first shrinking step was accepted"), "{}", text(&o));
    // another spec's run cannot use it
    let o = nasc(&["search", "specs/nb201.nas", "--set", "C=8", "--space-from", &from, "--budget", "5", "--store", &url, "--run", &run_name("x"), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("was made from a different spec"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A command evaluator slow enough for a second process to take part.
const SLOWISH: &str = r#"command:sh -c 'sleep 0.05; echo "{\"reward\": 0.5}"'"#;

#[test]
fn compare_keeps_its_runs_in_the_database_and_reuses_them() {
    let Some(url) = url() else { return };
    let prefix = run_name("cmp");
    let dir = std::env::temp_dir().join(format!("nasc-pg-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plot = dir.join("plot.svg").display().to_string();
    std::fs::create_dir_all(&dir).unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> =
            ["compare", "specs/nb201.nas", "--strategies", "rs,re", "--seeds", "2", "--budget", "60", "--store", &url, "--run", &prefix, "--plot", &plot, "--format", "json"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| -> (Output, serde_json::Value) {
        let a = args(extra);
        let o = nasc(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{}", text(&o));
        let j = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
        (o, j)
    };
    let (first, j1) = run(&[]);
    assert!(!String::from_utf8_lossy(&first.stderr).contains("reused"), "{}", text(&first));
    let mut c = db(&url);
    for st in ["rs", "re"] {
        for seed in 0..2 {
            let name = format!("{prefix}/{st}-s{seed}");
            assert_eq!(counts(&mut c, &name), (60, 60, 60, "finished".into(), 60), "{name}");
        }
    }
    assert_eq!(j1["strategies"][0]["seeds"][1]["store"], format!("{url}#{prefix}/rs-s1"));
    // random search asks the same candidates in any batch: its runs equal the SQLite compare's
    let out = dir.join("sqlite").display().to_string();
    let o = nasc(&["compare", "specs/nb201.nas", "--strategies", "rs", "--seeds", "2", "--budget", "60", "--out", &out, "--quiet", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let sq: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for seed in 0..2 {
        assert_eq!(sq["strategies"][0]["seeds"][seed]["best"], j1["strategies"][0]["seeds"][seed]["best"], "rs seed {seed}");
    }
    // again: every run is read back, the same table
    let (again, j2) = run(&[]);
    assert_eq!(String::from_utf8_lossy(&again.stderr).matches("reused").count(), 4, "{}", text(&again));
    assert_eq!(j1["strategies"], j2["strategies"]);
    // a different budget is refused, --fresh redoes the runs
    let a = ["compare", "specs/nb201.nas", "--strategies", "rs", "--seeds", "1", "--budget", "70", "--store", &url, "--run", &prefix, "--plot", &plot];
    let o = nasc(&a);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("was made differently (budget 60 trials vs 70 trials)"), "{}", text(&o));
    let (fresh, _) = run(&["--fresh"]);
    assert!(!String::from_utf8_lossy(&fresh.stderr).contains("reused"), "{}", text(&fresh));
    // simulated seconds are refused up front
    let o = nasc(&["compare", "specs/nb201.nas", "--strategies", "rs", "--seeds", "1", "--store", &url, "--run", &prefix]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs a budget in trials"), "{}", text(&o));
    let o = nasc(&["compare", "specs/nb201.nas", "--seeds", "1", "--budget", "5", "--store", "/tmp/x.db"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a PostgreSQL URL"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_strategy_that_waits_for_results_is_not_exhausted_early() {
    let Some(url) = url() else { return };
    // POPNAS asks nothing while a step's trials are open; two workers on one run must not take
    // that for the end: the run goes through its 3 steps, as on a SQLite store
    let config = r#"{"blocks":3,"k":5,"j":2,"ops":["conv_3x3","dconv_3x3","maxpool_2x2"],"predictor":{"folds":2,"epochs":3,"cells":6,"filters":4,"embedding":4}}"#;
    let run = run_name("popnas");
    let common = [
        "search",
        "specs/popnas_cell.nas",
        "--strategy",
        "popnas",
        "--strategy-config",
        config,
        "--evaluator",
        "instant",
        "--objective",
        "max:reward,min:flops",
        "--budget",
        "1000",
        "--quiet",
    ];
    let mut a: Vec<&str> = common.to_vec();
    a.extend(["--store", &url, "--run", &run, "--workers", "2"]);
    let o = nasc(&a);
    assert!(o.status.success(), "{}", text(&o));
    let o = nasc(&["report", &url, "--run", &run, "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let pg: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pg["status"], "exhausted", "{pg}");
    assert_eq!(pg["popnas"]["steps"].as_array().map(Vec::len), Some(3), "{}", pg["popnas"]);
    let dir = std::env::temp_dir().join(format!("nasc-pg-popnas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("p.db").display().to_string();
    let mut a: Vec<&str> = common.to_vec();
    a.extend(["--store", &store]);
    let o = nasc(&a);
    assert!(o.status.success(), "{}", text(&o));
    let o = nasc(&["report", &store, "--format", "json"]);
    let sq: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(pg["trials"], sq["trials"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lissnas_waits_for_its_queries_and_shrinks_as_on_sqlite() {
    let Some(url) = url() else { return };
    // with two workers asking in batches, each shrinking step waits for the results in flight
    // (before, the batches drew extra random queries and 100 trials ended before any shrinking
    // step): the shrinking asks the same trials in the same order as a one-process SQLite run
    let run = run_name("liss-batched");
    let o = nasc(&["search", "specs/nb201.nas", "--strategy", "lissnas", "--budget", "100", "--seed", "1", "--store", &url, "--run", &run, "--workers", "2", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let mut c = db(&url);
    let state: String = c.query_one("SELECT strategy_state FROM nasc_runs WHERE name = $1", &[&run]).unwrap().get(0);
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let shrinker = &state["shrinker"];
    assert!(shrinker["result"]["members"].is_array(), "the shrinking did not end with a shrunk space: {}", shrinker["history"]);
    let asked = shrinker["shrink_asked"].as_u64().unwrap() as i64;
    assert!(asked > 20 && asked < 100, "{asked}");
    let pg: Vec<String> = c.query("SELECT genotype FROM nasc_trials WHERE run = $1 AND id < $2 ORDER BY id", &[&run, &asked]).unwrap().iter().map(|r| r.get(0)).collect();
    let dir = std::env::temp_dir().join(format!("nasc-pg-liss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("l.db");
    let o = nasc(&["search", "specs/nb201.nas", "--strategy", "lissnas", "--budget", "100", "--seed", "1", "--store", store.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let lite = rusqlite::Connection::open(&store).unwrap();
    let mut q = lite.prepare("SELECT genotype FROM trials WHERE id < ?1 ORDER BY id").unwrap();
    let sq: Vec<String> = q.query_map([asked], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(pg, sq);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn both_engines_share_one_schema() {
    let Some(url) = url() else { return };
    // a SQLite store with every table (a lissnas run saves its shrunk space) and a database run
    let dir = std::env::temp_dir().join(format!("nasc-pg-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("l.db");
    let o = nasc(&["search", "specs/nb201.nas", "--strategy", "lissnas", "--budget", "100", "--seed", "1", "--quiet", "--store", store.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = nasc(&["search", "specs/nb201.nas", "--evaluator", "instant", "--budget", "3", "--quiet", "--store", &url, "--run", &run_name("schema")]);
    assert!(o.status.success(), "{}", text(&o));
    let lite = rusqlite::Connection::open(&store).unwrap();
    let mut c = db(&url);
    // SQLite-only columns: the single run row's id, the store format and the row checksums
    let sqlite_only = ["id", "format", "sum"];
    for (lite_table, pg_table) in [("run", "nasc_runs"), ("trials", "nasc_trials"), ("spaces", "nasc_spaces")] {
        let mut st = lite.prepare(&format!("SELECT name FROM pragma_table_info('{lite_table}')")).unwrap();
        let cols: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert!(!cols.is_empty(), "no table `{lite_table}`");
        let pg: Vec<String> = c.query("SELECT column_name::text FROM information_schema.columns WHERE table_name = $1", &[&pg_table]).unwrap().iter().map(|r| r.get(0)).collect();
        for col in cols {
            let engine_only = sqlite_only.contains(&col.as_str()) && !(lite_table == "trials" && col == "id");
            assert!(engine_only || pg.contains(&col), "column `{lite_table}.{col}` of the SQLite store has no `{pg_table}.{col}` in PostgreSQL ({pg:?})");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
