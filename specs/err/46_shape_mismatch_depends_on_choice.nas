// a shape mismatch in only some candidates: the add fails when `s` = 2
input [3, 32, 32];
choice s in [1, 2] default 1;

block maybe_down(x) {
  let y = x |> conv(x.c, 3, stride = s) |> bn;
  return x + y;
}

network = input |> conv(16, 3) |> maybe_down |> gap |> linear(10);
