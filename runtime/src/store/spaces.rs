//! Explicit spaces saved in a store: the shrunk space of a LISSNAS run, the input space of a
//! `--space-from` run.
use super::{now, open_read, sql, SqliteStore, StoreError};
use crate::space::encode;
use nasc_compiler::Candidate;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use std::path::Path;

/// Which explicit space a store holds: the `shrunk` space a run produced (LISSNAS), or the
/// `input` space a run was restricted to (`nasc search --space-from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceRole {
    Shrunk,
    Input,
}

impl SpaceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceRole::Shrunk => "shrunk",
            SpaceRole::Input => "input",
        }
    }
}

/// An explicit space (sorted member list) saved in a store.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSpace {
    /// The spec hash of the space the members belong to.
    pub spec_hash: String,
    pub size: usize,
    /// Members as lossless slot encodings (`space::encode`), sorted.
    pub members: Vec<String>,
    /// Statistics / provenance (JSON).
    pub stats: Value,
}

const SPACES_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spaces (
  role TEXT PRIMARY KEY, spec_hash TEXT NOT NULL, size INTEGER NOT NULL, members TEXT NOT NULL,
  stats TEXT NOT NULL, created REAL NOT NULL
);";

impl SqliteStore {
    /// Save (or replace) the explicit space of `role`; `members` are written sorted.
    pub fn save_space(&mut self, role: SpaceRole, spec_hash: &str, members: &[Candidate], stats: &Value) -> Result<(), StoreError> {
        if self.in_tx {
            self.conn.execute_batch("COMMIT").map_err(sql(&self.path))?;
            self.in_tx = false;
        }
        let mut m: Vec<&Candidate> = members.iter().collect();
        m.sort_unstable();
        m.dedup();
        let list = Value::Array(m.iter().map(|c| Value::String(encode(c))).collect());
        self.conn.execute_batch(SPACES_SCHEMA).map_err(sql(&self.path))?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO spaces (role, spec_hash, size, members, stats, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![role.as_str(), spec_hash, m.len() as i64, list.to_string(), stats.to_string(), now()],
            )
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// The explicit space of `role` in the store at `path`, if any (read-only).
    pub fn read_space(path: &Path, role: SpaceRole) -> Result<Option<SavedSpace>, StoreError> {
        // a sound nasc store at all?
        let (conn, _, _) = open_read(path)?;
        let has: Option<String> = conn.query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'spaces'", [], |r| r.get(0)).optional().map_err(sql(path))?;
        if has.is_none() {
            return Ok(None);
        }
        let row: Option<(String, i64, String, String)> = conn
            .query_row("SELECT spec_hash, size, members, stats FROM spaces WHERE role = ?1", params![role.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()
            .map_err(|source| StoreError::SpacesTable { path: path.to_path_buf(), source })?;
        let Some((spec_hash, size, members, stats)) = row else {
            return Ok(None);
        };
        let members: Vec<String> = serde_json::from_str(&members).map_err(|source| StoreError::SpaceList { path: path.to_path_buf(), role: role.as_str(), source })?;
        if members.len() as i64 != size {
            return Err(StoreError::SpaceSize { path: path.to_path_buf(), role: role.as_str(), members: members.len(), size });
        }
        Ok(Some(SavedSpace { spec_hash, size: size as usize, members, stats: serde_json::from_str(&stats).unwrap_or(Value::Null) }))
    }
}

/// The members of the shrunk space saved in the store at `path`, for a run of the spec that
/// hashes to `spec_hash` (`nasc search --space-from`). Errors: not a nasc store, no shrunk space
/// in it, a shrunk space of another spec (or other `--set` overrides).
pub fn load_space_from(path: &Path, spec_hash: &str) -> Result<Vec<Candidate>, StoreError> {
    let saved = SqliteStore::read_space(path, SpaceRole::Shrunk)?.ok_or_else(|| StoreError::NoShrunkSpace { path: path.to_path_buf() })?;
    if saved.spec_hash != spec_hash {
        let run = SqliteStore::read(path)?;
        return Err(StoreError::ShrunkSpecMismatch { path: path.to_path_buf(), stored_path: run.meta.spec_path, stored_hash: saved.spec_hash, hash: spec_hash.to_string() });
    }
    saved.members.iter().map(|g| crate::space::decode(g)).collect::<Result<Vec<_>, _>>().map_err(|why| StoreError::ShrunkMember { path: path.to_path_buf(), why: why.to_string() })
}
