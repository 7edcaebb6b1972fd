//! The typed errors of the PostgreSQL store. Each variant names the run (and the trial, where one
//! is concerned) and keeps the database's error as its source.

/// A database error's own message (the client's `Display` says only "db error"), lowercase
/// first letter as the rest of nasc's errors.
fn db_text(e: &postgres::Error) -> String {
    let mut t = match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => {
            let mut t = e.to_string();
            if let Some(s) = std::error::Error::source(e) {
                t += &format!(": {s}");
            }
            t
        }
    };
    if let Some(c) = t.get(..1) {
        t.replace_range(..1, &c.to_lowercase());
    }
    t
}

/// What went wrong talking to a PostgreSQL run.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// A `--store` value that is not a usable `postgresql://` URL.
    #[error("store `{url}`: {why}")]
    Url { url: String, why: String },
    /// No connection could be made within the reconnect window.
    #[error("cannot reach PostgreSQL at `{url}` ({tries} tries over {secs:.0} s): {}", db_text(.source))]
    Unreachable {
        url: String,
        tries: u32,
        secs: f64,
        #[source]
        source: postgres::Error,
    },
    /// The database holds a newer schema than this nasc knows.
    #[error("the database at `{url}` has nasc schema version {found}; this nasc knows up to {known} (upgrade nasc)")]
    SchemaTooNew { url: String, found: i32, known: i32 },
    #[error("run `{run}` does not exist in `{url}` (create it with `nasc search SPEC --store {url} --run {run}`)")]
    NoRun { run: String, url: String },
    #[error("run `{run}` already exists in `{url}`; continue it with `--resume`, or choose another `--run`")]
    RunExists { run: String, url: String },
    /// A run name that is empty, too long or not printable.
    #[error("run name `{run}`: {why}")]
    BadRunName { run: String, why: String },
    /// `--space-from` names a run with no shrunk space.
    #[error("run `{run}` holds no shrunk space: {why}")]
    NoShrunkSpace { run: String, why: String },
    #[error("run `{run}` was made from a different spec (`{stored_path}`, hash {stored_hash}…; this spec hashes to {hash}…); refusing to continue it")]
    SpecMismatch { run: String, stored_path: String, stored_hash: String, hash: String },
    /// A statement failed (not a lost connection: those are retried).
    #[error("run `{run}`: {what}: {}", db_text(.source))]
    Sql {
        run: String,
        what: &'static str,
        #[source]
        source: postgres::Error,
    },
    /// A statement about one trial failed.
    #[error("run `{run}`: trial {id}: {what}: {}", db_text(.source))]
    Trial {
        run: String,
        id: u64,
        what: &'static str,
        #[source]
        source: postgres::Error,
    },
    /// A stored trial that cannot be decoded.
    #[error("run `{run}`: trial {id}: {why}")]
    BadTrial { run: String, id: u64, why: String },
    /// The run's stored strategy state or configuration cannot be used.
    #[error("run `{run}`: {why}")]
    BadRun { run: String, why: String },
}

impl PgError {
    /// The database error behind this one, if any.
    pub fn db(&self) -> Option<&postgres::Error> {
        match self {
            PgError::Sql { source, .. } | PgError::Trial { source, .. } | PgError::Unreachable { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether the transaction may simply be run again: a serialization failure or a deadlock.
    pub fn is_retryable(&self) -> bool {
        self.db().and_then(|e| e.code()).is_some_and(|c| c.code() == "40001" || c.code() == "40P01")
    }

    /// Whether the connection is gone (server restarted or unreachable): reconnect and retry.
    pub fn is_connection(&self) -> bool {
        let Some(e) = self.db() else { return false };
        if e.is_closed() {
            return true;
        }
        match e.code() {
            // connection exceptions, admin/crash shutdown, cannot connect now
            Some(c) => c.code().starts_with("08") || matches!(c.code(), "57P01" | "57P02" | "57P03"),
            // no SQLSTATE: an IO error on the socket, or a failed connect
            None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) || e.to_string().contains("connect"),
        }
    }
}

impl From<PgError> for String {
    fn from(e: PgError) -> String {
        e.to_string()
    }
}
