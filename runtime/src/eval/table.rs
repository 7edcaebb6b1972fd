//! Embedded benchmark tables (runtime/data/*.bin, made by runtime/data/make_tables.py).
//! Little-endian f64 columns; opening a table only parses its header, values are read in place.
use std::sync::OnceLock;

pub struct Table {
    pub rows: usize,
    names: Vec<String>,
    data: &'static [u8],
    start: usize,
}

/// One column of a table.
#[derive(Clone, Copy)]
pub struct Column {
    bytes: &'static [u8],
}

impl Column {
    #[inline]
    pub fn get(&self, row: usize) -> f64 {
        let o = row * 8;
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.bytes[o..o + 8]);
        f64::from_le_bytes(b)
    }
}

impl Table {
    pub fn parse(data: &'static [u8]) -> Result<Table, super::EvalError> {
        let bad = || super::EvalError::Table;
        if data.get(..8) != Some(b"NASCTBL1") {
            return Err(bad());
        }
        let u32_at = |o: usize| data.get(o..o + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let rows = u32_at(8).ok_or_else(bad)?;
        let ncols = u32_at(12).ok_or_else(bad)?;
        let mut off = 16;
        let mut names = Vec::with_capacity(ncols);
        for _ in 0..ncols {
            let len = data.get(off..off + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize).ok_or_else(bad)?;
            let name = data.get(off + 2..off + 2 + len).ok_or_else(bad)?;
            names.push(String::from_utf8_lossy(name).into_owned());
            off += 2 + len;
        }
        let start = off.div_ceil(8) * 8;
        if data.len() != start + rows * ncols * 8 {
            return Err(bad());
        }
        Ok(Table { rows, names, data, start })
    }

    pub fn column_names(&self) -> &[String] {
        &self.names
    }

    pub fn column(&self, name: &str) -> Option<Column> {
        let i = self.names.iter().position(|n| n == name)?;
        let o = self.start + i * self.rows * 8;
        Some(Column { bytes: &self.data[o..o + self.rows * 8] })
    }

    /// A column that must exist (embedded data is fixed at build time).
    pub fn col(&self, name: &str) -> Column {
        self.column(name).unwrap_or_else(|| panic!("embedded table lacks column `{name}`"))
    }
}

static NB201_BYTES: &[u8] = include_bytes!("../../data/nb201.bin");
static MACRO_BYTES: &[u8] = include_bytes!("../../data/nas_bench_macro.bin");
static CBM_MOBILENET_BYTES: &[u8] = include_bytes!("../../data/channel_bench_macro_mobilenet.bin");
static CBM_RESNET_BYTES: &[u8] = include_bytes!("../../data/channel_bench_macro_resnet.bin");

fn cached(cell: &'static OnceLock<Table>, bytes: &'static [u8]) -> &'static Table {
    cell.get_or_init(|| Table::parse(bytes).expect("embedded table is well-formed"))
}

pub fn nb201() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    cached(&T, NB201_BYTES)
}
pub fn nas_bench_macro() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    cached(&T, MACRO_BYTES)
}
pub fn channel_bench_macro_mobilenet() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    cached(&T, CBM_MOBILENET_BYTES)
}
pub fn channel_bench_macro_resnet() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    cached(&T, CBM_RESNET_BYTES)
}
