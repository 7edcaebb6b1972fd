//! The CLI as a new user meets it (issue 14): a closed stdout, two processes on one store, a
//! store killed while being created, a read-only store, and inputs that must be refused up front
//! with exit 2 and a clear message.
use nasc_runtime::store::SqliteStore;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");

fn spec(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs").join(name).display().to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-cli-robustness-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nasc(args: &[&str]) -> Output {
    Command::new(NASC).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Wait for a child at most `limit`; kill it and fail past that.
fn wait(mut child: Child, limit: Duration, what: &str) -> Output {
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("{what}: still running after {limit:?}; stderr: {}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

/// Exit 2 with `want` in the message, nothing on stdout.
fn refused(args: &[&str], want: &str) {
    let o = nasc(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert!(stderr(&o).contains(want), "{args:?}: expected `{want}` in: {}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{args:?} printed: {}", stdout(&o));
}

fn search_args<'a>(store: &'a str, budget: &'a str) -> Vec<&'a str> {
    vec!["--evaluator", "instant", "--budget", budget, "--quiet", "--store", store]
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tmp("pipe");
    let store = dir.join("run.db");
    let nb = spec("nb201.nas");
    let s = store.to_str().unwrap();
    assert!(nasc(&["search", &nb, "--evaluator", "instant", "--budget", "50", "--quiet", "--store", s]).status.success());
    let store2 = dir.join("run2.db");
    let cases: Vec<Vec<&str>> = vec![
        vec!["explain", &nb],
        vec!["explain", &nb, "--format", "json"],
        vec!["sample", &nb, "-n", "20"],
        vec!["check", &nb],
        vec!["report", s],
        vec!["report", s, "--format", "json"],
        vec!["search", &nb, "--evaluator", "instant", "--budget", "30", "--quiet", "--store", store2.to_str().unwrap()],
    ];
    for args in cases {
        // a pipe whose reading end is closed before the command writes anything
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = Command::new(NASC).args(&args).stdout(writer).stderr(Stdio::piped()).spawn().unwrap();
        let o = wait(child, Duration::from_secs(60), &format!("{args:?}"));
        let err = stderr(&o);
        assert!(!err.contains("panicked") && !err.to_lowercase().contains("broken pipe"), "{args:?}: {err}");
        // quiet: success, or ended by SIGPIPE like `cat` and `grep`
        assert!(o.status.success() || o.status.signal() == Some(13), "{args:?}: {:?} {err}", o.status);
    }
    // the search whose output went nowhere still finished its run
    let run = SqliteStore::read(&store2).unwrap();
    assert_eq!((run.status.as_str(), run.trials.len()), ("finished", 30));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_process_on_a_store_is_refused_up_front() {
    let dir = tmp("two");
    let store = dir.join("run.db");
    let s = store.to_str().unwrap();
    let nb = spec("nb201.nas");
    let mut a = vec!["search", nb.as_str()];
    a.extend(search_args(s, "100000000"));
    let first = Command::new(NASC).args(&a).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let t = Instant::now();
    while !SqliteStore::read(&store).is_ok_and(|r| !r.trials.is_empty()) {
        assert!(t.elapsed() < Duration::from_secs(60), "the first search committed nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut resume = a.clone();
    resume.push("--resume");
    for args in [&resume, &a] {
        let second = Command::new(NASC).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let o = wait(second, Duration::from_secs(30), "the second search");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        let want = if args.contains(&"--resume") { format!("is in use by another nasc process (pid {})", first.id()) } else { "already exists".to_string() };
        assert!(err.contains(&want), "{err}");
        assert!(!err.contains("UNIQUE"), "{err}");
    }
    // the first run goes on; killed with -9 it loses nothing committed, and releases the store
    let before = SqliteStore::read(&store).unwrap().trials.len();
    assert!(Command::new("kill").args(["-9", &first.id().to_string()]).status().unwrap().success());
    let o = first.wait_with_output().unwrap();
    assert!(!o.status.success());
    let killed = SqliteStore::read(&store).unwrap();
    assert!(killed.trials.len() >= before);
    let mut short = a.clone();
    let n = (killed.trials.len() + 10).to_string();
    let i = short.iter().position(|x| *x == "--budget").unwrap();
    short[i + 1] = &n;
    short.push("--resume");
    let o = nasc(&short);
    assert!(o.status.success(), "resume after kill -9: {}", stderr(&o));
    let done = SqliteStore::read(&store).unwrap();
    assert_eq!(done.trials.len(), killed.trials.len() + 10);
    assert_eq!(done.trials[..killed.trials.len()], killed.trials[..]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_store_killed_while_created_can_be_made_or_resumed() {
    let dir = tmp("create");
    let nb = spec("nb201.nas");
    for i in 0..24u64 {
        let store = dir.join(format!("run{i}.db"));
        let s = store.to_str().unwrap();
        let mut args = vec!["search", nb.as_str()];
        args.extend(search_args(s, "100000000"));
        let mut child = Command::new(NASC).args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        // spread the kills over the start: compile, creation, first commits
        std::thread::sleep(Duration::from_micros(500 + i * 1500));
        let _ = child.kill();
        let _ = child.wait();
        let mut resume = args.clone();
        let b = resume.iter().position(|x| *x == "--budget").unwrap();
        resume[b + 1] = "5";
        if store.exists() {
            resume.push("--resume");
        }
        let o = nasc(&resume);
        assert!(o.status.success(), "after a kill at {}us: {}", 500 + i * 1500, stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_read_only_store_is_reported_without_writing() {
    let dir = tmp("ro");
    let ro = dir.join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let store = ro.join("run.db");
    let nb = spec("nb201.nas");
    let mut args = vec!["search", nb.as_str()];
    args.extend(search_args(store.to_str().unwrap(), "40"));
    assert!(nasc(&args).status.success());
    let files = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(files(&ro), ["run.db"]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // root ignores permissions: report as `nobody` there
    let root = Command::new("id").arg("-u").output().map(|o| stdout(&o).trim() == "0").unwrap_or(false);
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", NASC]);
        c
    } else {
        Command::new(NASC)
    };
    for format in ["text", "json"] {
        let o = cmd.args(["report", store.to_str().unwrap(), "--format", format]).output();
        let o = match o {
            Ok(o) => o,
            Err(e) => {
                eprintln!("note: cannot run as another user ({e}); skipped");
                return;
            }
        };
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("finished"), "{}", stdout(&o));
        cmd = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", NASC]);
            c
        } else {
            Command::new(NASC)
        };
    }
    assert_eq!(files(&ro), ["run.db"], "report wrote next to the store");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_are_refused_up_front() {
    let dir = tmp("bad");
    let nb = spec("nb201.nas");
    let store = dir.join("run.db");
    let s = store.to_str().unwrap();
    let search = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["search", nb.as_str(), "--quiet", "--store", s].iter().map(|x| x.to_string()).collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (search(&["--constraint", "params"]), "constraint `params`: is not a condition"),
        (search(&["--constraint", "flops < 1 div 0"]), "divides by zero"),
        (search(&["--constraint", "flops <= \"abc\""]), "is a string"),
        (search(&["--constraint", "flps <= 100M"]), "did you mean `flops`?"),
        (search(&["--constraint", "flops<=1M"]), "excludes every candidate: `flops` is exactly 7,783,050 to 220,119,690"),
        (search(&["--constraint", "params > 2M"]), "`params` is exactly 73,306 to 1,531,546"),
        (search(&["--strategy-config", "[]"]), "expected a JSON object"),
        (search(&["--strategy", "rs", "--strategy-config", "3"]), "expected a JSON object"),
        (search(&["--target", "nan"]), "--target must be a finite reward"),
        (search(&["--set", "classes=10", "--set", "classes=100"]), "`classes` is already set to `10`"),
        (vec!["search".into(), spec("digits_tiny.nas"), "--store".into(), s.into()], "`train:dataset=digits,epochs=1`"),
    ];
    for (args, want) in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&a, want);
        assert!(!store.exists(), "{args:?} made a store");
    }
    // a constraint every candidate meets is a warning, and the run goes on
    let o = nasc(&search(&["--evaluator", "instant", "--budget", "3", "--constraint", "flops <= 1G"]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: constraint `flops <= 1G` holds for every candidate"), "{}", stderr(&o));
    // a folder as the store
    refused(&search(&["--evaluator", "instant"]).iter().map(|x| if x == s { dir.to_str().unwrap() } else { x.as_str() }).collect::<Vec<_>>(), "is a folder");
    refused(&["report", dir.to_str().unwrap()], "is a folder");
    // --candidates: a folder fails once, at once
    let child = Command::new(NASC).args(["metrics", &nb, "--candidates", dir.to_str().unwrap()]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let o = wait(child, Duration::from_secs(20), "metrics --candidates FOLDER");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a folder") && stdout(&o).is_empty(), "{}{}", stdout(&o), stderr(&o));
    // an unreadable spec is an IO error: exit 2, also next to a spec with errors
    refused(&["check", dir.join("missing.nas").to_str().unwrap()], "cannot read");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_numbers_trials_as_the_store_does_and_checks_pareto_first() {
    let dir = tmp("report");
    let store = dir.join("run.db");
    let s = store.to_str().unwrap();
    let nb = spec("nb201.nas");
    let mut args = vec!["search", nb.as_str()];
    args.extend(["--budget", "60", "--workers", "4", "--quiet", "--store", s]);
    assert!(nasc(&args).status.success());
    let j: serde_json::Value = serde_json::from_slice(&nasc(&["report", s, "--format", "json"]).stdout).unwrap();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["stop_reason"], "budget");
    assert_eq!(j["store"], s);
    assert_eq!(j["run"]["budget"]["trials"], 60);
    let text = stdout(&nasc(&["report", s]));
    let best_id = j["best"]["id"].as_u64().unwrap();
    assert!(text.contains(&format!("(trial {best_id}, ")), "{text}");
    // the top table and the history name trials by the id SQLite and JSON use
    let top_id = j["top"][1]["id"].as_u64().unwrap();
    assert!(text.lines().any(|l| l.split_whitespace().take(2).eq(["2".to_string(), top_id.to_string()])), "{text}");
    let last = j["history"].as_array().unwrap().last().unwrap()["id"].as_u64().unwrap();
    assert!(text.contains(&format!("trial {last:>7}  sim")), "{text}");
    // the same run fields in the search JSON
    let store2 = dir.join("run2.db");
    let mut args2 = vec!["search", nb.as_str(), "--format", "json"];
    args2.extend(["--budget", "5", "--quiet", "--store", store2.to_str().unwrap()]);
    let js: serde_json::Value = serde_json::from_slice(&nasc(&args2).stdout).unwrap();
    for k in ["schema_version", "stop_reason", "store", "status", "best", "run"] {
        assert!(js.get(k).is_some(), "search JSON lacks `{k}`");
    }
    assert_eq!(js["stop_reason"], "budget");
    // --pareto: needs --plots, and a typo is refused before anything is printed
    let plots = dir.join("plots");
    let p = plots.to_str().unwrap();
    let o = nasc(&["report", s, "--pareto", "params"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--plots") && stdout(&o).is_empty(), "{}", stderr(&o));
    refused(&["report", s, "--plots", p, "--pareto", "param"], "did you mean `params`?");
    assert!(!plots.exists());
    let o = nasc(&["report", s, "--plots", p, "--pareto", "params"]);
    assert!(o.status.success() && plots.join("pareto_params.svg").exists(), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn commands_and_arguments_have_help() {
    for (cmd, want) in
        [("sample", "How many candidates"), ("snapshot", "Write the current output"), ("explain", "The spec file"), ("check", "The spec files"), ("metrics", "or `-` for stdin")]
    {
        let o = nasc(&[cmd, "--help"]);
        assert!(o.status.success());
        assert!(stdout(&o).contains(want), "`nasc {cmd} --help`: {}", stdout(&o));
    }
}

/// The zoo is built in: from an empty folder, `nasc search nb201` runs the default job,
/// `nasc zoo` lists the specs, `nasc zoo NAME` prints one; a near-miss name gets a hint, and a
/// file of the same name wins over the built-in spec.
#[test]
fn built_in_specs_work_from_any_folder() {
    let dir = tmp("zoo");
    let run = |args: &[&str]| Command::new(NASC).args(args).current_dir(&dir).output().unwrap();
    let o = run(&["search", "nb201", "--budget", "30", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("nasc-runs/nb201-re-s0.db").is_file());
    // the first search says what to do next, with commands that run as printed
    let out = stdout(&o);
    let next: Vec<&str> = out.lines().skip_while(|l| *l != "next:").skip(1).collect();
    assert_eq!(next.len(), 3, "{out}");
    assert!(next[0].trim_start().starts_with("nasc report nasc-runs/nb201-re-s0.db --plots plots/"));
    let export = next[1].trim_start().split("   #").next().unwrap();
    // `nasc export SPEC --candidate 'NAME' --format ...`: the quoted name holds no quote
    let parts: Vec<&str> = export.split('\'').collect();
    assert_eq!(parts.len(), 3, "{export}");
    let words: Vec<String> = parts[0].split_whitespace().chain([parts[1]]).chain(parts[2].split_whitespace()).map(String::from).collect();
    assert_eq!(&words[..2], ["nasc", "export"], "{words:?}");
    let o = run(&words[1..].iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success() && dir.join("best.onnx").is_file(), "{words:?}: {}", stderr(&o));
    let o = run(&["zoo"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 17, "{}", stdout(&o));
    assert!(stdout(&o).lines().any(|l| l.starts_with("resnet18 ")));
    let o = run(&["zoo", "tiny"]);
    assert_eq!(stdout(&o), std::fs::read_to_string(spec("tiny.nas")).unwrap());
    let o = run(&["explain", "nb2011"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean the built-in spec `nb201`?"), "{}", stderr(&o));
    let o = run(&["zoo", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no built-in spec `nope`"), "{}", stderr(&o));
    // a file named like a zoo spec is that file
    std::fs::write(dir.join("tiny"), "space mine;\ninput [3, 8, 8];\nnetwork = input |> conv(4, 3);\n").unwrap();
    let o = run(&["explain", "tiny"]);
    assert!(stdout(&o).contains("space mine"), "{}", stdout(&o));
}

/// For CI scripts: `nasc check --format json` gives every diagnostic with its code, line, column
/// and span (and the exit codes of text mode: 1 for a spec with errors, 2 for an unreadable
/// file); `nasc metrics --format text|json` prints names with metrics, errors on their line.
#[test]
fn check_and_metrics_speak_json_and_text() {
    let d = tmp("formats");
    let bad = d.join("bad.nas");
    std::fs::write(&bad, "space t;\ninput [3, 8, 8];\nnetwork = input |> conv(8, 3) |> se(2, gate = \"sigmod\") |> gap |> linear(10);\n").unwrap();
    let (good, missing) = (spec("tiny.nas"), d.join("missing.nas"));
    let o = nasc(&["check", &good, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!((doc["schema_version"].as_u64(), doc["ok"].as_bool()), (Some(1), Some(true)));
    assert!(doc["files"][0]["size"].as_str().is_some() && doc["files"][0]["diagnostics"].as_array().unwrap().is_empty());
    let o = nasc(&["check", &good, bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let diag = &doc["files"][1]["diagnostics"][0];
    assert_eq!(doc["files"][1]["ok"], false);
    assert_eq!((diag["code"].as_str(), diag["severity"].as_str()), (Some("E0104"), Some("error")));
    assert_eq!((diag["line"].as_u64(), diag["column"].as_u64()), (Some(3), Some(47)), "{diag}");
    assert_eq!(diag["help"].as_str(), Some("did you mean `sigmoid`?"));
    let text = std::fs::read_to_string(&bad).unwrap();
    let span: Vec<usize> = diag["span"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert_eq!(&text[span[0]..span[1]], "\"sigmod\"");
    let o = nasc(&["check", bad.to_str().unwrap(), missing.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["files"][1]["error"].as_str().unwrap().contains("missing.nas"), "{doc}");
    // metrics: text and json, a bad name reported on its line
    let names = d.join("names.txt");
    let nb = spec("nb201.nas");
    let first = stdout(&nasc(&["sample", &nb, "-n", "1", "--seed", "4"])).split('\t').next().unwrap().to_string();
    std::fs::write(&names, format!("{first}\nnot-a-name\n")).unwrap();
    let o = nasc(&["metrics", &nb, "--candidates", names.to_str().unwrap(), "--format", "text"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with(&format!("{first}\t")) && lines[0].contains("\tflops=") && lines[0].contains("\tparams="), "{out}");
    assert!(lines[1].starts_with("not-a-name\terror (line 2): "), "{out}");
    let o = nasc(&["metrics", &nb, "--candidates", names.to_str().unwrap()]);
    let js: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(js[0]["candidate"].as_str(), Some(first.as_str()));
    assert_eq!(js[1]["line"].as_u64(), Some(2));
    let _ = std::fs::remove_dir_all(&d);
}

/// `nasc bench` on a fixed network (no decisions: one candidate) reports its compile time and
/// says there is no search throughput to measure, instead of panicking on an empty batch.
#[test]
fn bench_on_a_spec_without_decisions() {
    for format in ["text", "json"] {
        let o = nasc(&["bench", &spec("resnet18.nas"), "--format", format]);
        assert!(o.status.success(), "{}", stderr(&o));
        if format == "text" {
            assert!(stdout(&o).contains("0 decisions (a fixed network"), "{}", stdout(&o));
        } else {
            let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            assert_eq!(j["decisions"], 0);
            assert!(j["compile_ms"].as_f64().is_some_and(|t| t > 0.0), "{j}");
        }
    }
}
