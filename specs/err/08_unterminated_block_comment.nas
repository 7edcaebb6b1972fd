// a block comment that is never closed hides the rest of the file
input [3, 32, 32];
choice w in [16, 32] default 16;

/* the head of the network:
   global pooling and a linear classifier
network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
metric params;
