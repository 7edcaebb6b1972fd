// Repro: a POPNAS/PNAS-style cell output, the concatenation of the block outputs that no later
// block reads, takes about a minute to compile for ONE cell (no op choice at all here).
// Whether block b is unused depends jointly on the inputs of all later blocks; each comparison
// `in1[c] == b` forks one world per option of in1[c], and the worlds carrying the `used` flag /
// the `outs` list cannot merge back until the list is consumed, so the evaluator walks every
// assignment of the 10 input decisions (sum over n of prod (c + 2)^2, about 6e5) and
// merge_worlds rescans them after every statement.
// Measured (release, 2 cores): about 35-60 s; popnas_cell.nas with 8 such cells would take
// many minutes. Expected: about a second (the output width only depends on, per block,
// whether it is read later). popnas_cell.nas works around it by concatenating all blocks
// (POPNAS's own `concat_only_unused_blocks: false` setting).
input [8, 8, 8];
choice blocks in [1, 2, 3, 4, 5];
choice in1[b in 0..5] in [-2, -1] + [i for i in 0..b] when blocks > b;
choice in2[b in 0..5] in [-2, -1] + [i for i in 0..b] when blocks > b;
network {
  let all = [input, input];
  for b in 0..5 {
    if blocks > b { all = all + [all[in1[b] + 2] + all[in2[b] + 2]]; }
  }
  let outs = [];
  for b in 0..5 {
    if blocks > b {
      let used = false;
      for c in 0..5 {
        if c > b && blocks > c {
          if in1[c] == b || in2[c] == b { used = true; }
        }
      }
      if !used { outs = outs + [all[b + 2]]; }
    }
  }
  return concat(outs) |> conv(8, 1) |> gap |> linear(10);
}
