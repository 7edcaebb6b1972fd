// Optimizer updates, in place, PyTorch semantics. Hyper-parameters that stay fixed during a run
// are overridable constants; the per-step scalars come in a uniform.
//   sgd:   0 p (rw), 1 g, 2 buf (rw), 3 u    u.lr; MOMENTUM, NESTEROV (0/1), WD
//          d = g + WD p; buf = MOMENTUM buf + d; d = NESTEROV ? d + MOMENTUM buf : buf; p -= lr d
//   adamw: 0 p (rw), 1 g, 2 m (rw), 4 v (rw), 3 u   u.lr, u.bc1 = 1 - b1^t, u.bc2_sqrt = sqrt(1 - b2^t)
//          p *= 1 - lr WD; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//          p -= (lr / bc1) m / (sqrt(v) / bc2_sqrt + EPS)

override MOMENTUM: f32 = 0.0;
override NESTEROV: u32 = 0u;
override WD: f32 = 0.0;
override BETA1: f32 = 0.9;
override BETA2: f32 = 0.999;
override EPS: f32 = 1e-8;

struct Step {
    lr: f32,
    bc1: f32,
    bc2_sqrt: f32,
    pad: f32,
}

@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf: array<f32>;
@group(0) @binding(3) var<uniform> u: Step;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@compute @workgroup_size(256)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= arrayLength(&p)) {
        return;
    }
    var d = g[i] + WD * p[i];
    if (MOMENTUM != 0.0) {
        let bv = MOMENTUM * buf[i] + d;
        buf[i] = bv;
        if (NESTEROV != 0u) {
            d = d + MOMENTUM * bv;
        } else {
            d = bv;
        }
    }
    p[i] = p[i] - u.lr * d;
}

@compute @workgroup_size(256)
fn adamw(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i >= arrayLength(&p)) {
        return;
    }
    let gi = g[i];
    let pi = p[i] * (1.0 - u.lr * WD);
    let m = BETA1 * buf[i] + (1.0 - BETA1) * gi;
    let vv = BETA2 * v[i] + (1.0 - BETA2) * gi * gi;
    buf[i] = m;
    v[i] = vv;
    p[i] = pi - (u.lr / u.bc1) * m / (sqrt(vv) / u.bc2_sqrt + EPS);
}
