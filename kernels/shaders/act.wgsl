// Element-wise activations, forward and backward. ACT selects the function (codes of
// `shape::Act::code`): 0 ReLU, 1 ReLU6, 2 swish (SiLU), 3 h-swish, 4 sigmoid, 5 h-sigmoid.
// Derivatives at kinks follow PyTorch. Lengths come from the bound buffer sizes.
//   forward:  0 x, 2 y (write)
//   backward: 0 x, 1 dy, 3 dx (write)

override ACT: u32;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

fn sigm(v: f32) -> f32 {
    return 1.0 / (1.0 + exp(-v));
}

fn f(v: f32) -> f32 {
    switch ACT {
        case 0u: { return max(v, 0.0); }
        case 1u: { return clamp(v, 0.0, 6.0); }
        case 2u: { return v * sigm(v); }
        case 3u: { return v * clamp(v + 3.0, 0.0, 6.0) / 6.0; }
        case 4u: { return sigm(v); }
        default: { return clamp(v + 3.0, 0.0, 6.0) / 6.0; }
    }
}

fn df(v: f32) -> f32 {
    switch ACT {
        case 0u: { return select(0.0, 1.0, v > 0.0); }
        case 1u: { return select(0.0, 1.0, v > 0.0 && v < 6.0); }
        case 2u: {
            let s = sigm(v);
            return s * (1.0 + v * (1.0 - s));
        }
        case 3u: {
            if (v < -3.0) { return 0.0; }
            if (v <= 3.0) { return v / 3.0 + 0.5; }
            return 1.0;
        }
        case 4u: {
            let s = sigm(v);
            return s * (1.0 - s);
        }
        default: { return select(0.0, 1.0 / 6.0, v > -3.0 && v < 3.0); }
    }
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < arrayLength(&y)) {
        y[i] = f(x[i]);
    }
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < arrayLength(&dx)) {
        dx[i] = df(x[i]) * dy[i];
    }
}
