// STATUS: fixed in 1fd9802 (regression test: tests/tests/language_fixes.rs); the zoo no longer
// needs the workaround described below.
// Repro: LANGUAGE.md: `+` on lists is concatenation, and "a subset evaluates to the list of
// chosen pool members". Concatenating a plain list with a list built from a subset is rejected:
//   [E0104] expected a number, found list        (on `[x]`)
// The NSE multi-branch layer needs exactly this: the mean of the identity path and the chosen
// branches, `mean([x] + [op(x) for op in branch])`. (The interpreter's conditional list cannot
// hold an unconditional element: "cannot mix a subset's members with plain values".)
// Expected: compiles, size 1 + 3 + 3 = 7. Workaround in nse_multibranch_27ops.nas:
// `x + sum(ops)`, the same shapes, params and FLOPs, but not the 1 / (1 + n) scaling of the mean.
input [8, 8, 8];
block a(x) = dwconv(x, 3);
block b(x) = dwconv(x, 5);
block c(x) = conv(x, 8, 1);
subset branch of [a, b, c] size 0..=2;
network {
  let x = input;
  let ops = [op(x) for op in branch];
  return mean([x] + ops) |> gap |> linear(10);
}
