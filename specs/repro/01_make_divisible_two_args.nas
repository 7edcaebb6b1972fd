// STATUS: fixed in 1fd9802 (regression test: tests/tests/language_fixes.rs); the zoo no longer
// needs the workaround described below.
// Repro: LANGUAGE.md lists the scalar builtin `make_divisible(v, d)` (two arguments), but the
// compiler requires a third argument: "[E0103] missing argument `min` to `make_divisible`".
// Its own body treats `min` as optional (a non-int `min` falls back to the divisor), so the
// signature in compiler/src/interp/builtins.rs should give `min` a default.
// Expected: compiles, size 2. Workaround used in the zoo: make_divisible(v, 8, 8).
input [3, 8, 8];
choice c in [1, 2];
network { return input |> conv(make_divisible(18 * c, 8), 1) |> gap |> linear(10); }
