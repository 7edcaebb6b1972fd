//! The files a spec names (lookup CSVs), read from disk for the compiler: the one file loader of
//! the runner, the tests and the examples.
//!
//! A spec is untrusted input (a CI job may check specs from a pull request), so a lookup may
//! only read a regular file inside the spec's folder tree, or inside a folder the caller allowed
//! (the CLI's `--allow-path DIR`). Paths are resolved first (`..`, absolute paths and symlinks
//! included), so a link inside the folder to a file outside it is refused too. A FIFO, a device
//! or a directory is refused without being opened, and a file over `MAX_LOOKUP_BYTES` is
//! refused (at most that much is read, whatever the file's size claims). Error messages name
//! the path, never the file's content.
use nasc_compiler::Loader;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest lookup file nasc reads.
pub const MAX_LOOKUP_BYTES: u64 = 64 << 20;

/// Reads lookup files relative to a spec's folder, confined to it and the allowed folders.
pub struct FsLoader {
    dir: PathBuf,
    roots: Vec<PathBuf>,
}

impl FsLoader {
    /// A loader for a spec in folder `dir` that may also read under `allowed`.
    pub fn with_roots(dir: PathBuf, allowed: Vec<PathBuf>) -> Self {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let mut roots: Vec<PathBuf> = std::fs::canonicalize(&dir).into_iter().collect();
        roots.extend(allowed);
        FsLoader { dir, roots }
    }

    fn read(&self, path: &str) -> Result<String, String> {
        if path.is_empty() || path.contains('\0') {
            return Err("not a file name".into());
        }
        let joined = self.dir.join(path);
        let real = std::fs::canonicalize(&joined).map_err(|e| e.to_string().to_lowercase())?;
        if !self.roots.iter().any(|r| real.starts_with(r)) {
            let folder = self.roots.first().map_or_else(|| self.dir.display().to_string(), |r| r.display().to_string());
            return Err(format!(
                "it resolves to `{}`, outside the spec's folder `{folder}` (lookups read files under the spec's folder; allow another folder with `--allow-path DIR`)",
                real.display()
            ));
        }
        // the resolved path's type, without opening it (opening a FIFO blocks)
        let meta = std::fs::metadata(&real).map_err(|e| e.to_string().to_lowercase())?;
        if !meta.is_file() {
            return Err(format!("`{}` is not a regular file", real.display()));
        }
        if meta.len() > MAX_LOOKUP_BYTES {
            return Err(format!("the file has {} bytes; lookup files are at most {MAX_LOOKUP_BYTES} bytes", meta.len()));
        }
        let file = open_nonblocking(&real).map_err(|e| e.to_string().to_lowercase())?;
        // (the file may have been replaced since: check the handle, and read at most the cap)
        if !file.metadata().map_err(|e| e.to_string().to_lowercase())?.is_file() {
            return Err(format!("`{}` is not a regular file", real.display()));
        }
        let mut bytes = Vec::new();
        file.take(MAX_LOOKUP_BYTES + 1).read_to_end(&mut bytes).map_err(|e| e.to_string().to_lowercase())?;
        if bytes.len() as u64 > MAX_LOOKUP_BYTES {
            return Err(format!("the file is larger than {MAX_LOOKUP_BYTES} bytes (the most a lookup file may have)"));
        }
        String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text (a lookup table is a CSV file)".to_string())
    }
}

#[cfg(unix)]
fn open_nonblocking(p: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc_o_nonblock()).open(p)
}

#[cfg(unix)]
fn libc_o_nonblock() -> i32 {
    // O_NONBLOCK: 0o4000 on Linux (x86, arm), 0x0004 on macOS and the BSDs
    if cfg!(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd")) {
        0x0004
    } else {
        0o4000
    }
}

#[cfg(not(unix))]
fn open_nonblocking(p: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(p)
}

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        self.read(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    struct Tmp(PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A fresh folder tree: root/spec (the spec's folder, with t.csv and sub/u.csv) and
    /// root/outside (with secret.csv).
    fn tree(tag: &str) -> (Tmp, PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("nasc-loader-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let spec = root.join("spec");
        let outside = root.join("outside");
        std::fs::create_dir_all(spec.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(spec.join("t.csv"), "decision,option,ms\n").unwrap();
        std::fs::write(spec.join("sub/u.csv"), "decision,option,ms\n").unwrap();
        std::fs::write(outside.join("secret.csv"), "root:x:0:0:TOPSECRET\n").unwrap();
        (Tmp(root), spec, outside)
    }

    #[test]
    fn reads_files_under_the_spec_folder() {
        let (_t, spec, _) = tree("ok");
        let l = FsLoader::with_roots(spec.clone(), Vec::new());
        assert_eq!(l.load("t.csv").unwrap(), "decision,option,ms\n");
        assert_eq!(l.load("sub/u.csv").unwrap(), "decision,option,ms\n");
        assert_eq!(l.load("sub/../t.csv").unwrap(), "decision,option,ms\n");
        let e = l.load("missing.csv").unwrap_err();
        assert!(e.contains("no such file"), "{e}");
    }

    #[test]
    fn refuses_paths_outside_the_spec_folder() {
        let (_t, spec, outside) = tree("out");
        let l = FsLoader::with_roots(spec.clone(), Vec::new());
        for p in ["../outside/secret.csv", "../../../../../../etc/passwd", "/etc/passwd", "/proc/self/environ"] {
            let e = l.load(p).unwrap_err();
            assert!(e.contains("outside the spec's folder") && e.contains("--allow-path"), "{p}: {e}");
            assert!(!e.contains("root:x") && !e.contains("TOPSECRET"), "{p}: echoes content: {e}");
        }
        let abs = outside.join("secret.csv");
        assert!(l.load(abs.to_str().unwrap()).unwrap_err().contains("outside"));
        // an allowed folder may be read, also by an absolute path
        let allowed = FsLoader::with_roots(spec, vec![std::fs::canonicalize(&outside).unwrap()]);
        assert_eq!(allowed.load("../outside/secret.csv").unwrap(), "root:x:0:0:TOPSECRET\n");
        assert_eq!(allowed.load(abs.to_str().unwrap()).unwrap(), "root:x:0:0:TOPSECRET\n");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_resolved_before_the_check() {
        let (_t, spec, outside) = tree("link");
        std::os::unix::fs::symlink(outside.join("secret.csv"), spec.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(&outside, spec.join("dirlink")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", spec.join("passwd.csv")).unwrap();
        std::os::unix::fs::symlink(spec.join("t.csv"), spec.join("inside.csv")).unwrap();
        let l = FsLoader::with_roots(spec, Vec::new());
        for p in ["link.csv", "dirlink/secret.csv", "passwd.csv"] {
            let e = l.load(p).unwrap_err();
            assert!(e.contains("outside the spec's folder"), "{p}: {e}");
        }
        // a link that stays inside is fine
        assert_eq!(l.load("inside.csv").unwrap(), "decision,option,ms\n");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_fifos_devices_and_folders_without_blocking() {
        let (_t, spec, _) = tree("fifo");
        let fifo = spec.join("pipe.csv");
        let ok = std::process::Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
        let l = FsLoader::with_roots(spec.clone(), vec![PathBuf::from("/dev")]);
        let t = Instant::now();
        if ok {
            let e = l.load("pipe.csv").unwrap_err();
            assert!(e.contains("not a regular file"), "{e}");
        }
        let e = l.load("/dev/zero").unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let e = l.load("sub").unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
    }

    #[test]
    fn refuses_files_over_the_cap() {
        let (_t, spec, _) = tree("big");
        let f = std::fs::File::create(spec.join("big.csv")).unwrap();
        f.set_len(MAX_LOOKUP_BYTES + 1).unwrap(); // sparse: no disk used
        let l = FsLoader::with_roots(spec, Vec::new());
        let e = l.load("big.csv").unwrap_err();
        assert!(e.contains("at most"), "{e}");
    }

    #[test]
    fn refuses_binary_files_without_echoing_them() {
        let (_t, spec, _) = tree("bin");
        std::fs::write(spec.join("b.csv"), [0xffu8, 0xfe, b's', b'e', b'c', b'r', b'e', b't']).unwrap();
        let l = FsLoader::with_roots(spec, Vec::new());
        let e = l.load("b.csv").unwrap_err();
        assert!(e.contains("not UTF-8") && !e.contains("secret"), "{e}");
    }
}
