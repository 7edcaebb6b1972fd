// Repro: compile time explodes with two DARTS-style cells that have separate genotypes.
// Each node picks 2 of its predecessors (`subset a_in[j] of range(j + 2) size 2`) and an op per
// chosen input (`when i in a_in[j]`). Using the op needs `i in a_in[j]`, which forks the world
// on the member literal (interp/exec.rs `member`, ForkMember). With a fixed subset size no two
// consistent worlds differ in ONE member literal ({0,1} vs {0,2} differ in two), so
// merge_worlds (world.rs), which merges one literal group at a time, never merges them back:
// after a cell the 1 x 3 x 6 x 10 = 180 input combinations stay live as separate worlds for the
// rest of the network, and a second cell with its own subsets multiplies them (180 x 180).
// Measured (release, 2 cores, loaded machine): only cell A 0.14 s; cells A then B 109-150 s.
// Expected: well under a second (sizes: 180 x 2^8 per cell, 2,123,366,400 in all).
// STATUS: still slow. Since 1fd9802 the other spelling, `for i in a_in[j] { ... a_op[j][i] }`
// (members as loop guards, no fork), is accepted (repro 02) and fast: darts.nas uses it and
// compiles in 0.17 s. Only this `if i in subset` spelling (and any membership test outside a
// loop over the subset) still leaves the member worlds unmerged.
input [8, 8, 8];
let OPS = [3, 5];
subset a_in[j in 0..4] of range(j + 2) size 2;
choice a_op[j in 0..4][i in 0..5] in OPS when i in a_in[j];
subset b_in[j in 0..4] of range(j + 2) size 2;
choice b_op[j in 0..4][i in 0..5] in OPS when i in b_in[j];
block cell(x, second) {
  let states = [x, x];
  for j in 0..4 {
    let br = [];
    for i in 0..j + 2 {
      if second {
        if i in b_in[j] { br = br + [states[i] |> dwconv(b_op[j][i])]; }
      } else {
        if i in a_in[j] { br = br + [states[i] |> dwconv(a_op[j][i])]; }
      }
    }
    states = states + [sum(br)];
  }
  return states[5];
}
network {
  let x = cell(input, false);
  x = cell(x, true);
  return x |> gap |> linear(10);
}
