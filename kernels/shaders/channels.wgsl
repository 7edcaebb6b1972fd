// Channel-wise ops on NCHW tensors.
//   concat_fwd: 0 src, 3 dst (write)   dst[n, OFF + c, p] = src[n, c, p]; src has C channels,
//               dst CT channels (one dispatch per concatenated input)
//   concat_bwd: 0 src, 3 dst (write)   dst[n, c, p] = src[n, OFF + c, p] (split of the gradient)
//   cmul_fwd:   0 src, 1 s, 3 dst      dst[n,c,p] = src[n,c,p] * s[n,c]   (squeeze-excite scale)
//   cmul_bwd_x: 2 dy, 1 s, 3 dst      dst = dy * s[n,c]
//   cmul_bwd_s: 0 src, 2 dy, 4 ds      ds[n,c] = sum_p dy * src, one workgroup per (n, c)
//   gap_fwd:    0 src, 3 dst           dst[n,c] = mean_p src[n,c,p], one workgroup per (n, c)
//   gap_bwd:    2 dy, 3 dst            dst[n,c,p] = dy[n,c] / HW

override N: u32;
override C: u32 = 1u;
override CT: u32 = 1u;
override OFF: u32 = 0u;
override HW: u32;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(256)
fn concat_fwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * HW) {
        return;
    }
    let p = i % HW;
    let c = (i / HW) % C;
    let n = i / (HW * C);
    dst[(n * CT + OFF + c) * HW + p] = src[i];
}

@compute @workgroup_size(256)
fn concat_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * HW) {
        return;
    }
    let p = i % HW;
    let c = (i / HW) % C;
    let n = i / (HW * C);
    dst[i] = src[(n * CT + OFF + c) * HW + p];
}

@compute @workgroup_size(256)
fn cmul_fwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < N * C * HW) {
        dst[i] = src[i] * s[i / HW];
    }
}

@compute @workgroup_size(256)
fn cmul_bwd_x(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < N * C * HW) {
        dst[i] = dy[i] * s[i / HW];
    }
}

fn reduce(lid: u32) {
    workgroupBarrier();
    for (var k = WG / 2u; k > 0u; k >>= 1u) {
        if (lid < k) {
            red[lid] += red[lid + k];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn cmul_bwd_s(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
    let pl = wid.x + wid.y * nwg.x;
    var acc = 0.0;
    if (pl < N * C) {
        for (var p = lid; p < HW; p += WG) {
            acc += dy[pl * HW + p] * src[pl * HW + p];
        }
    }
    red[lid] = acc;
    reduce(lid);
    if (lid == 0u && pl < N * C) {
        ds[pl] = red[0];
    }
}

@compute @workgroup_size(256)
fn gap_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
    let pl = wid.x + wid.y * nwg.x;
    var acc = 0.0;
    if (pl < N * C) {
        for (var p = lid; p < HW; p += WG) {
            acc += src[pl * HW + p];
        }
    }
    red[lid] = acc;
    reduce(lid);
    if (lid == 0u && pl < N * C) {
        dst[pl] = red[0] / f32(HW);
    }
}

@compute @workgroup_size(256)
fn gap_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < N * C * HW) {
        dst[i] = dy[i / HW] / f32(HW);
    }
}
