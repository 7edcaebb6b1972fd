// a subset of a 3-member pool whose size range starts above 3
input [3, 32, 32];
block b3(x) = x |> conv(x.c, 3) |> bn;
block b5(x) = x |> conv(x.c, 5) |> bn;
block b7(x) = x |> conv(x.c, 7) |> bn;

subset branches of [b3, b5, b7] size 4..=5;

network {
  let x = input |> conv(16, 3);
  return sum([x |> b for b in branches]) |> gap |> linear(10);
}
