//! Row checksums: every `run`, `trials` and `checkpoints` row of a store (format 2) carries the
//! first 8 bytes of a SHA-256 of its fields, written with the row and checked when it is read,
//! so that a damaged row (a flipped byte, a hand edit) is reported by name instead of being served
//! as a changed candidate, genotype or accuracy.
//!
//! Values are hashed as SQLite hands them back: a NaN is stored as NULL and a `-0.0` as `0`, so
//! both are hashed that way too.
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

pub struct RowSum(Sha256);

impl RowSum {
    /// A checksum of a row of `table` (the table name is hashed too: a row copied into another
    /// table does not verify).
    pub fn new(table: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"nasc-row\0");
        h.update(table.as_bytes());
        RowSum(h)
    }

    pub fn null(&mut self) -> &mut Self {
        self.0.update([0u8]);
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.0.update([1u8]);
        self.0.update((s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn int(&mut self, i: i64) -> &mut Self {
        self.0.update([2u8]);
        self.0.update(i.to_le_bytes());
        self
    }

    pub fn real(&mut self, x: f64) -> &mut Self {
        if x.is_nan() {
            return self.null();
        }
        let x = if x == 0.0 { 0.0 } else { x };
        self.0.update([3u8]);
        self.0.update(x.to_bits().to_le_bytes());
        self
    }

    pub fn opt_real(&mut self, x: Option<f64>) -> &mut Self {
        match x {
            Some(x) => self.real(x),
            None => self.null(),
        }
    }

    /// A column as read back; the column's declared type decides how a number is hashed, so
    /// the writer hashes what it binds with the same methods.
    pub fn value(&mut self, v: ValueRef<'_>, real: bool) -> &mut Self {
        match v {
            ValueRef::Null => self.null(),
            ValueRef::Integer(i) if real => self.real(i as f64),
            ValueRef::Integer(i) => self.int(i),
            ValueRef::Real(x) => self.real(x),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => self.text(s),
                // not UTF-8 (damaged): hash something no writer produces
                Err(_) => {
                    self.0.update([4u8]);
                    self.0.update(t);
                    self
                }
            },
            ValueRef::Blob(b) => {
                self.0.update([5u8]);
                self.0.update(b);
                self
            }
        }
    }

    pub fn finish(&self) -> i64 {
        let d = self.0.clone().finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        i64::from_le_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_delimited_and_typed() {
        let a = RowSum::new("t").text("ab").text("c").finish();
        let b = RowSum::new("t").text("a").text("bc").finish();
        assert_ne!(a, b);
        assert_ne!(RowSum::new("t").int(1).finish(), RowSum::new("t").real(1.0).finish());
        assert_ne!(RowSum::new("t").null().finish(), RowSum::new("t").text("").finish());
        assert_ne!(RowSum::new("t").int(1).finish(), RowSum::new("u").int(1).finish());
        // what SQLite gives back for NaN and -0.0
        assert_eq!(RowSum::new("t").real(f64::NAN).finish(), RowSum::new("t").null().finish());
        assert_eq!(RowSum::new("t").real(-0.0).finish(), RowSum::new("t").value(ValueRef::Integer(0), true).finish());
    }
}
