// Structural element-wise ops. Lengths come from the bound buffer sizes.
//   add:        0 a, 1 b, 2 y (write)          y = a + b
//   axpy:       0 a, 2 y (rw)                  y += ALPHA * a   (gradient accumulation, mean)
//   scale:      0 a, 2 y (write)               y = ALPHA * a    (mean of branches, identity)
//   fill:       2 y (write)                    y = ALPHA        (zero op)

override ALPHA: f32 = 1.0;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn tid(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < arrayLength(&y)) {
        y[i] = a[i] + b[i];
    }
}

@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < arrayLength(&y)) {
        y[i] += ALPHA * a[i];
    }
}

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < arrayLength(&y)) {
        y[i] = ALPHA * a[i];
    }
}

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = tid(gid, nwg);
    if (i < arrayLength(&y)) {
        y[i] = ALPHA;
    }
}
