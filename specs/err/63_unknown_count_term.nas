// a counting rule with a misspelled term (`linear_bais`) and a rule for a non-counted metric
input [3, 32, 32];
choice w in [16, 32] default 16;

count flops { conv, linear, linear_bais }
count params { conv }

network = input |> conv(w, 3) |> bn |> relu |> gap |> linear(10);
