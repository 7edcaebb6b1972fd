// 2-D average / max pooling (floor mode), PyTorch semantics.
// KIND: 0 average excluding padding (count_include_pad=false), 1 average including padding,
//       2 max (padding never wins; gradient to the first maximum in row-major window order).
//   forward:  0 x, 2 y (write)          thread per output element
//   backward: 0 x, 1 dy, 3 dx (write)   thread per input element (gathers the windows holding it)

override N: u32;
override C: u32;
override H: u32;
override W: u32;
override KH: u32;
override KW: u32;
override SH: u32;
override SW: u32;
override PH: u32;
override PW: u32;
override OH: u32;
override OW: u32;
override KIND: u32;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

struct Win {
    y0: i32,
    y1: i32,
    x0: i32,
    x1: i32,
    div: f32,
}

fn window(oy: u32, ox: u32) -> Win {
    let ys = i32(oy * SH) - i32(PH);
    let xs = i32(ox * SW) - i32(PW);
    let ye = ys + i32(KH);
    let xe = xs + i32(KW);
    var r: Win;
    r.y0 = max(ys, 0);
    r.y1 = min(ye, i32(H));
    r.x0 = max(xs, 0);
    r.x1 = min(xe, i32(W));
    if (KIND == 1u) {
        r.div = f32((min(ye, i32(H + PH)) - ys) * (min(xe, i32(W + PW)) - xs));
    } else {
        r.div = f32((r.y1 - r.y0) * (r.x1 - r.x0));
    }
    return r;
}

// Index (within the plane) of the window's first maximum, or -1 if the window is empty.
fn argmax(base: u32, r: Win) -> i32 {
    var best = -1;
    var bv = 0.0;
    for (var iy = r.y0; iy < r.y1; iy++) {
        for (var ix = r.x0; ix < r.x1; ix++) {
            let idx = iy * i32(W) + ix;
            let v = x[base + u32(idx)];
            if (best < 0 || v > bv || v != v) {
                best = idx;
                bv = v;
            }
        }
    }
    return best;
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * OH * OW) {
        return;
    }
    let ox = i % OW;
    let oy = (i / OW) % OH;
    let pl = i / (OW * OH);
    let base = pl * H * W;
    let r = window(oy, ox);
    if (KIND == 2u) {
        let a = argmax(base, r);
        if (a < 0) {
            y[i] = -3.40282347e38;
        } else {
            y[i] = x[base + u32(a)];
        }
    } else {
        var s = 0.0;
        for (var iy = r.y0; iy < r.y1; iy++) {
            for (var ix = r.x0; ix < r.x1; ix++) {
                s += x[base + u32(iy) * W + u32(ix)];
            }
        }
        y[i] = s / r.div;
    }
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * H * W) {
        return;
    }
    let ix = i32(i % W);
    let iy = i32((i / W) % H);
    let pl = i / (W * H);
    let base = pl * H * W;
    let me = iy * i32(W) + ix;
    // windows oy with oy*SH - PH <= iy < oy*SH - PH + KH
    let ty = iy + i32(PH);
    let tx = ix + i32(PW);
    let oy_lo = max(ty - i32(KH) + i32(SH), 0) / i32(SH);
    let oy_hi = min(ty / i32(SH), i32(OH) - 1);
    let ox_lo = max(tx - i32(KW) + i32(SW), 0) / i32(SW);
    let ox_hi = min(tx / i32(SW), i32(OW) - 1);
    var acc = 0.0;
    for (var oy = oy_lo; oy <= oy_hi; oy++) {
        for (var ox = ox_lo; ox <= ox_hi; ox++) {
            let r = window(u32(oy), u32(ox));
            let g = dy[(pl * OH + u32(oy)) * OW + u32(ox)];
            if (KIND == 2u) {
                if (argmax(base, r) == me) {
                    acc += g;
                }
            } else {
                acc += g / r.div;
            }
        }
    }
    dx[i] = acc;
}
