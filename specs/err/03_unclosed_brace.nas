// the body of block `stem` is never closed: the next item starts inside it
input [3, 32, 32];
choice w in [16, 32] default 16;

block stem(x, c) {
  let y = x |> conv(c, 3) |> bn |> relu;
  return y;

network {
  return input |> stem(w) |> gap |> linear(10);
}
