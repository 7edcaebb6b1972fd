// Softmax cross-entropy with integer labels, mean over the batch (PyTorch F.cross_entropy).
//   rows:   0 logits, 1 labels, 2 dlogits (write), 3 row_loss (write)   thread per row:
//           dlogits = (softmax - onehot) / N, row_loss = logsumexp - logit[label]
//   reduce: 3 row_loss, 4 loss (write)                                  one workgroup:
//           loss[0] = mean(row_loss)

override N: u32;
override K: u32;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = gid.x + gid.y * nwg.x * 64u;
    if (r >= N) {
        return;
    }
    let base = r * K;
    var m = logits[base];
    for (var j = 1u; j < K; j++) {
        m = max(m, logits[base + j]);
    }
    var s = 0.0;
    for (var j = 0u; j < K; j++) {
        s += exp(logits[base + j] - m);
    }
    let lab = labels[r];
    let inv_n = 1.0 / f32(N);
    for (var j = 0u; j < K; j++) {
        let p = exp(logits[base + j] - m) / s;
        dlogits[base + j] = (p - select(0.0, 1.0, j == lab)) * inv_n;
    }
    row_loss[r] = m + log(s) - logits[base + min(lab, K - 1u)];
}

@compute @workgroup_size(256)
fn reduce(@builtin(local_invocation_index) lid: u32) {
    var acc = 0.0;
    for (var t = lid; t < N; t += WG) {
        acc += row_loss[t];
    }
    red[lid] = acc;
    workgroupBarrier();
    for (var k = WG / 2u; k > 0u; k >>= 1u) {
        if (lid < k) {
            red[lid] += red[lid + k];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        loss[0] = red[0] / f32(N);
    }
}
