// Batch normalization over [N, C, HW], PyTorch semantics.
// Entry points and bindings:
//   stats:          0 x, 3 mean (write), 4 invstd (write), 5 running_mean (rw), 6 running_var (rw)
//                   one workgroup per channel: batch mean, biased variance for invstd, unbiased
//                   variance into the running average (momentum MOMENTUM)
//   eval_invstd:    6 running_var (read as rw), 4 invstd (write)     thread per channel
//   apply:          0 x, 1 gamma, 2 beta, 3 mean, 4 invstd, 7 y (write)
//                   y = (x - mean) * invstd * gamma + beta; eval mode binds the running mean to 3
//   backward_reduce: 0 x, 8 dy, 3 mean, 4 invstd, 9 dgamma (write), 10 dbeta (write)
//   backward_train: 0 x, 8 dy, 1 gamma, 3 mean, 4 invstd, 9 dgamma, 10 dbeta, 11 dx (write)
//   backward_eval:  8 dy, 1 gamma, 4 invstd, 11 dx (write)

override N: u32;
override C: u32;
override HW: u32;
override EPS: f32 = 1e-5;
override MOMENTUM: f32 = 0.1;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;
@group(0) @binding(8) var<storage, read> dy: array<f32>;
@group(0) @binding(9) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(10) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(11) var<storage, read_write> dx: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

fn reduce2(lid: u32) {
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
            red2[lid] += red2[lid + s];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let cnt = N * HW;
    var s = 0.0;
    for (var t = lid; t < cnt; t += WG) {
        s += x[((t / HW) * C + c) * HW + t % HW];
    }
    red[lid] = s;
    red2[lid] = 0.0;
    reduce2(lid);
    let m = red[0] / f32(cnt);
    workgroupBarrier();
    var q = 0.0;
    for (var t = lid; t < cnt; t += WG) {
        let d = x[((t / HW) * C + c) * HW + t % HW] - m;
        q += d * d;
    }
    red[lid] = q;
    red2[lid] = 0.0;
    reduce2(lid);
    if (lid == 0u) {
        let var_b = red[0] / f32(cnt);
        var var_u = var_b;
        if (cnt > 1u) {
            var_u = red[0] / f32(cnt - 1u);
        }
        mean[c] = m;
        invstd[c] = 1.0 / sqrt(var_b + EPS);
        running_mean[c] = (1.0 - MOMENTUM) * running_mean[c] + MOMENTUM * m;
        running_var[c] = (1.0 - MOMENTUM) * running_var[c] + MOMENTUM * var_u;
    }
}

@compute @workgroup_size(64)
fn eval_invstd(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c < C) {
        invstd[c] = 1.0 / sqrt(running_var[c] + EPS);
    }
}

@compute @workgroup_size(256)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * HW) {
        return;
    }
    let c = (i / HW) % C;
    let scale = gamma[c] * invstd[c];
    y[i] = (x[i] - mean[c]) * scale + beta[c];
}

@compute @workgroup_size(256)
fn backward_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let c = wid.x;
    let cnt = N * HW;
    let m = mean[c];
    let inv = invstd[c];
    var s0 = 0.0;
    var s1 = 0.0;
    for (var t = lid; t < cnt; t += WG) {
        let i = ((t / HW) * C + c) * HW + t % HW;
        s0 += dy[i];
        s1 += dy[i] * (x[i] - m) * inv;
    }
    red[lid] = s0;
    red2[lid] = s1;
    reduce2(lid);
    if (lid == 0u) {
        dbeta[c] = red[0];
        dgamma[c] = red2[0];
    }
}

@compute @workgroup_size(256)
fn backward_train(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * HW) {
        return;
    }
    let c = (i / HW) % C;
    let cnt = f32(N * HW);
    let inv = invstd[c];
    let xhat = (x[i] - mean[c]) * inv;
    dx[i] = gamma[c] * inv * (dy[i] - dbeta[c] / cnt - xhat * dgamma[c] / cnt);
}

@compute @workgroup_size(256)
fn backward_eval(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= N * C * HW) {
        return;
    }
    let c = (i / HW) % C;
    dx[i] = dy[i] * gamma[c] * invstd[c];
}
