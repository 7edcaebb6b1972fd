// STATUS: fixed in 1fd9802 (regression test: tests/tests/language_fixes.rs); the zoo no longer
// needs the workaround described below.
// Repro: LANGUAGE.md says `for i in EXPR` accepts a subset decision and that `when i in
// inputs[j]` guards "per-edge ops of chosen inputs" (the DARTS pattern). Iterating the subset
// and using the guarded op of the member is rejected:
//   [E0404] decision `op[0]` is used where it may not exist
// although inside `for i in ins` the member i is in `ins` by construction (the loop body runs
// under the member's guard). Expected: compiles, size 3 x 2^2 = 12.
// Workaround (darts.nas): `for i in 0..3 { if i in ins { ... } }`, which compiles but forks a
// world per subset value (see repro 03 for its cost).
input [8, 8, 8];
subset ins of range(3) size 2;
choice op[i in 0..3] in [3, 5] when i in ins;
network {
  let states = [input, input, input];
  let b = [];
  for i in ins { b = b + [states[i] |> dwconv(op[i])]; }
  return sum(b) |> gap |> linear(10);
}
