// Conv2d forward and backward, NCHW f32, OIHW weights, PyTorch semantics.
// Shape and hyper-parameters are pipeline-overridable constants (one pipeline per layer shape).
// Entry points and their bindings:
//   forward:         0 x (read), 1 w (read), 2 b (read, only if HAS_BIAS), 3 y (write)
//   backward_input:  1 w, 4 dy (read), 5 dx (write)
//   backward_weight: 0 x, 4 dy, 6 dw (write)       one workgroup per weight element
//   backward_bias:   4 dy, 7 db (write)            one workgroup per output channel

override N: u32;
override CI: u32;
override H: u32;
override W: u32;
override CO: u32;
override KH: u32;
override KW: u32;
override SH: u32;
override SW: u32;
override PH: u32;
override PW: u32;
override DH: u32;
override DW: u32;
override G: u32;
override OH: u32;
override OW: u32;
override HAS_BIAS: u32 = 0u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dw: array<f32>;
@group(0) @binding(7) var<storage, read_write> db: array<f32>;

const WG: u32 = 256u;
// reductions (backward_weight, backward_bias) use workgroups of WR invocations
const WR: u32 = 64u;
var<workgroup> red: array<f32, 64>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// Each invocation of `forward` computes BLK output channels of one pixel (one load of x feeds
// BLK multiply-adds); `backward_input` likewise BLK input channels of one pixel. Threads run
// along x fastest, so neighbouring invocations read neighbouring pixels.
const BLK: u32 = 4u;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    let cig = CI / G;
    let cog = CO / G;
    let nb = (cog + BLK - 1u) / BLK;
    if (i >= N * G * nb * OH * OW) {
        return;
    }
    let ox = i % OW;
    let oy = (i / OW) % OH;
    let blk = (i / (OW * OH)) % nb;
    let g = (i / (OW * OH * nb)) % G;
    let n = i / (OW * OH * nb * G);
    let co0 = g * cog + blk * BLK;
    let last = min(BLK, cog - blk * BLK) - 1u;
    let wstride = cig * KH * KW;
    // weight offsets of the block's channels (clamped to the last valid one)
    let o = vec4<u32>(0u, min(1u, last), min(2u, last), min(3u, last)) * wstride;
    var acc = vec4<f32>(0.0);
    for (var cl = 0u; cl < cig; cl++) {
        let xbase = (n * CI + g * cig + cl) * H * W;
        let wbase = (co0 * cig + cl) * KH * KW;
        for (var ki = 0u; ki < KH; ki++) {
            let iy = i32(oy * SH + ki * DH) - i32(PH);
            if (iy < 0 || iy >= i32(H)) {
                continue;
            }
            for (var kj = 0u; kj < KW; kj++) {
                let ix = i32(ox * SW + kj * DW) - i32(PW);
                if (ix < 0 || ix >= i32(W)) {
                    continue;
                }
                let xv = x[xbase + u32(iy) * W + u32(ix)];
                let wk = wbase + ki * KW + kj;
                acc += xv * vec4<f32>(w[wk + o.x], w[wk + o.y], w[wk + o.z], w[wk + o.w]);
            }
        }
    }
    let hw = OH * OW;
    let ybase = (n * CO + co0) * hw + oy * OW + ox;
    for (var t = 0u; t <= last; t++) {
        var v = acc[t];
        if (HAS_BIAS != 0u) {
            v += b[co0 + t];
        }
        y[ybase + t * hw] = v;
    }
}

@compute @workgroup_size(256)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    let cig = CI / G;
    let cog = CO / G;
    let nb = (cig + BLK - 1u) / BLK;
    if (i >= N * G * nb * H * W) {
        return;
    }
    let ix = i % W;
    let iy = (i / W) % H;
    let blk = (i / (W * H)) % nb;
    let g = (i / (W * H * nb)) % G;
    let n = i / (W * H * nb * G);
    let cl0 = blk * BLK;
    let last = min(BLK, cig - cl0) - 1u;
    let o = vec4<u32>(0u, min(1u, last), min(2u, last), min(3u, last)) * (KH * KW);
    var acc = vec4<f32>(0.0);
    for (var ki = 0u; ki < KH; ki++) {
        // oy * SH = iy + PH - ki * DH
        let ty = i32(iy + PH) - i32(ki * DH);
        if (ty < 0 || u32(ty) % SH != 0u) {
            continue;
        }
        let oy = u32(ty) / SH;
        if (oy >= OH) {
            continue;
        }
        for (var kj = 0u; kj < KW; kj++) {
            let tx = i32(ix + PW) - i32(kj * DW);
            if (tx < 0 || u32(tx) % SW != 0u) {
                continue;
            }
            let ox = u32(tx) / SW;
            if (ox >= OW) {
                continue;
            }
            for (var col = 0u; col < cog; col++) {
                let co = g * cog + col;
                let gv = dy[((n * CO + co) * OH + oy) * OW + ox];
                let wk = ((co * cig + cl0) * KH + ki) * KW + kj;
                acc += gv * vec4<f32>(w[wk + o.x], w[wk + o.y], w[wk + o.z], w[wk + o.w]);
            }
        }
    }
    let xbase = (n * CI + g * cig + cl0) * H * W + iy * W + ix;
    for (var t = 0u; t <= last; t++) {
        dx[xbase + t * H * W] = acc[t];
    }
}

@compute @workgroup_size(64)
fn backward_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = wid.x + wid.y * nwg.x;
    let cig = CI / G;
    let valid = e < CO * cig * KH * KW;
    let kj = e % KW;
    let ki = (e / KW) % KH;
    let cl = (e / (KW * KH)) % cig;
    let co = e / (KW * KH * cig);
    let ci = (co / (CO / G)) * cig + cl;
    var acc = 0.0;
    if (valid) {
        let total = N * OH * OW;
        for (var t = lid; t < total; t += WR) {
            let ox = t % OW;
            let oy = (t / OW) % OH;
            let n = t / (OW * OH);
            let iy = i32(oy * SH + ki * DH) - i32(PH);
            let ix = i32(ox * SW + kj * DW) - i32(PW);
            if (iy >= 0 && iy < i32(H) && ix >= 0 && ix < i32(W)) {
                acc += x[((n * CI + ci) * H + u32(iy)) * W + u32(ix)] * dy[((n * CO + co) * OH + oy) * OW + ox];
            }
        }
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var s = WR / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    if (lid == 0u && valid) {
        dw[e] = red[0];
    }
}

@compute @workgroup_size(64)
fn backward_bias(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
    let co = wid.x + wid.y * nwg.x;
    var acc = 0.0;
    if (co < CO) {
        let hw = OH * OW;
        for (var t = lid; t < N * hw; t += WR) {
            let n = t / hw;
            acc += dy[(n * CO + co) * hw + t % hw];
        }
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var s = WR / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    if (lid == 0u && co < CO) {
        db[co] = red[0];
    }
}
