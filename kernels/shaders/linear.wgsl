// Fully connected layer y = x W^T + b, x: [N, IN], W: [OUT, IN].
//   forward:         0 x, 1 w, 2 b (if HAS_BIAS), 3 y (write)   thread per (n, o)
//   backward_input:  1 w, 4 dy, 5 dx (write)                    thread per (n, i)
//   backward_weight: 0 x, 4 dy, 6 dw (write)                    thread per (o, i)
//   backward_bias:   4 dy, 7 db (write)                         thread per o

override N: u32;
override IN: u32;
override OUT: u32;
override HAS_BIAS: u32 = 0u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dw: array<f32>;
@group(0) @binding(7) var<storage, read_write> db: array<f32>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = tid(gid, nwg);
    if (t >= N * OUT) {
        return;
    }
    let o = t % OUT;
    let n = t / OUT;
    var acc = 0.0;
    for (var i = 0u; i < IN; i++) {
        acc += x[n * IN + i] * w[o * IN + i];
    }
    if (HAS_BIAS != 0u) {
        acc += b[o];
    }
    y[t] = acc;
}

@compute @workgroup_size(256)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = tid(gid, nwg);
    if (t >= N * IN) {
        return;
    }
    let i = t % IN;
    let n = t / IN;
    var acc = 0.0;
    for (var o = 0u; o < OUT; o++) {
        acc += dy[n * OUT + o] * w[o * IN + i];
    }
    dx[t] = acc;
}

@compute @workgroup_size(256)
fn backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = tid(gid, nwg);
    if (t >= OUT * IN) {
        return;
    }
    let i = t % IN;
    let o = t / IN;
    var acc = 0.0;
    for (var n = 0u; n < N; n++) {
        acc += dy[n * OUT + o] * x[n * IN + i];
    }
    dw[t] = acc;
}

@compute @workgroup_size(256)
fn backward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = tid(gid, nwg);
    if (o >= OUT) {
        return;
    }
    var acc = 0.0;
    for (var n = 0u; n < N; n++) {
        acc += dy[n * OUT + o];
    }
    db[o] = acc;
}
