//! The CPU backend's single GEMM entry point, over the `gemm` crate (default) or
//! `matrixmultiply` (feature `mm`). Both take arbitrary row/column strides, so transposed
//! operands cost nothing.

/// A strided read-only matrix view: element (i, j) is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// Row-major `rows x cols` matrix with leading dimension `cols`.
    pub fn rm(data: &'a [f32], cols: usize) -> Self {
        Mat { data, rs: cols, cs: 1 }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    pub fn rm_t(data: &'a [f32], cols: usize) -> Self {
        Mat { data, rs: 1, cs: cols }
    }
}

fn check(m: usize, n: usize, k: usize, a: &Mat, b: &Mat, c: &[f32], rsc: usize) {
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        assert!((m - 1) * a.rs + (k - 1) * a.cs < a.data.len(), "gemm: A out of bounds");
        assert!((k - 1) * b.rs + (n - 1) * b.cs < b.data.len(), "gemm: B out of bounds");
    }
    assert!((m - 1) * rsc + (n - 1) < c.len(), "gemm: C out of bounds");
}

/// `C = A B` (or `C += A B` when `accumulate`), with `A: m x k`, `B: k x n`, and `C` row-major
/// `m x n` with row stride `rsc`. `parallel` lets the engine use the rayon pool; leave it off
/// when the caller is already parallel over independent GEMMs.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: &mut [f32], rsc: usize, accumulate: bool, parallel: bool) {
    check(m, n, k, &a, &b, c, rsc);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c[i * rsc..i * rsc + n].fill(0.0);
            }
        }
        return;
    }
    imp(m, n, k, a, b, c, rsc, accumulate, parallel)
}

#[cfg(feature = "gemm")]
#[allow(clippy::too_many_arguments)]
fn imp(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: &mut [f32], rsc: usize, accumulate: bool, parallel: bool) {
    let par = if parallel && (m * n * k) >= 64 * 64 * 64 { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    // SAFETY: bounds were checked above; the gemm crate reads A and B and writes C within
    // the given extents only.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            rsc as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            par,
        )
    }
}

#[cfg(all(feature = "mm", not(feature = "gemm")))]
#[allow(clippy::too_many_arguments)]
fn imp(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: &mut [f32], rsc: usize, accumulate: bool, _parallel: bool) {
    // matrixmultiply's `threading` feature decides parallelism itself (MATMUL_NUM_THREADS).
    // SAFETY: bounds were checked above.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            if accumulate { 1.0 } else { 0.0 },
            c.as_mut_ptr(),
            rsc as isize,
            1,
        )
    }
}

#[cfg(not(any(feature = "mm", feature = "gemm")))]
#[allow(clippy::too_many_arguments)]
fn imp(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: &mut [f32], rsc: usize, accumulate: bool, _parallel: bool) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
            }
            let d = &mut c[i * rsc + j];
            *d = if accumulate { *d + s } else { s };
        }
    }
}

/// Name of the GEMM engine compiled in.
pub fn engine() -> &'static str {
    if cfg!(feature = "gemm") {
        "gemm"
    } else if cfg!(feature = "mm") {
        "matrixmultiply"
    } else {
        "naive"
    }
}
