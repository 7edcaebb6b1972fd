// a cell node that nothing reads (n2 does not reach the output)
input [3, 32, 32];
block conv3(x) = x |> relu |> conv(x.c, 3) |> bn;
choice edge[3] in [identity, conv3] default identity;

block cell(x) {
  node n1 = x |> edge[0];
  node n2 = x |> edge[1];
  node n3 = n1 |> edge[2];
  return n3;
}

network = input |> conv(16, 3) |> cell |> gap |> linear(10);
