//! Named binary blobs in a SQLite store: what a driver outside the ask/tell runner keeps with its
//! run (NSE's supernet checkpoint, each round's search-space spec). A blob is written inside the
//! store's open transaction, so it becomes durable with the trials and checkpoint of the same
//! [`crate::store::Store::commit`]: a store never holds a blob that its trials do not match.
//! Each blob carries the sha256 of its bytes, checked when it is read.
use super::{now, read, sql, SqliteStore, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::path::Path;

const BLOBS_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS blobs (
  name TEXT PRIMARY KEY, data BLOB NOT NULL, sha256 TEXT NOT NULL, created REAL NOT NULL
);";

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the store has a `blobs` table (a store that never saved a blob has none).
fn has_blobs(conn: &Connection, path: &Path) -> Result<bool, StoreError> {
    let has: Option<String> = conn.query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'blobs'", [], |r| r.get(0)).optional().map_err(sql(path))?;
    Ok(has.is_some())
}

fn get(conn: &Connection, path: &Path, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    if !has_blobs(conn, path)? {
        return Ok(None);
    }
    let row: Option<(Vec<u8>, String)> =
        conn.query_row("SELECT data, sha256 FROM blobs WHERE name = ?1", params![name], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(sql(path))?;
    match row {
        None => Ok(None),
        Some((data, sum)) if sha256(&data) == sum => Ok(Some(data)),
        Some(_) => Err(StoreError::DamagedBlob { path: path.to_path_buf(), name: name.to_string() }),
    }
}

impl SqliteStore {
    /// Write (or replace) blob `name` in the open transaction; the next
    /// [`crate::store::Store::commit`] makes it durable together with the trials appended since
    /// the last one.
    pub fn put_blob(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.begin()?;
        self.conn.execute_batch(BLOBS_SCHEMA).map_err(sql(&self.path))?;
        self.conn
            .execute("INSERT OR REPLACE INTO blobs (name, data, sha256, created) VALUES (?1, ?2, ?3, ?4)", params![name, data, sha256(data), now()])
            .map_err(sql(&self.path))?;
        Ok(())
    }

    /// Blob `name` of this (open) store, if any, as last committed or written.
    pub fn blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        get(&self.conn, &self.path, name)
    }

    /// The names of this store's blobs that start with `prefix`, sorted.
    pub fn blob_names(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        names(&self.conn, &self.path, prefix)
    }

    /// Blob `name` of the store at `path`, if any (read-only; the store is checked as
    /// [`SqliteStore::read`] checks it, without keeping its trials).
    pub fn read_blob(path: &Path, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (conn, _, _) = read::open_scan(path, &mut |_, _| {})?;
        get(&conn, path, name)
    }
}

fn names(conn: &Connection, path: &Path, prefix: &str) -> Result<Vec<String>, StoreError> {
    if !has_blobs(conn, path)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare("SELECT name FROM blobs ORDER BY name").map_err(sql(path))?;
    let all = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql(path))?.collect::<Result<Vec<_>, _>>().map_err(sql(path))?;
    Ok(all.into_iter().filter(|n| n.starts_with(prefix)).collect())
}
