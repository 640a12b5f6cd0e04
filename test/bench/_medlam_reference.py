#!/usr/bin/env python3
"""Reference timing for `npm run bench -- localize`: the reference network's own PyTorch forward
(out_fc + out_feature, as the reference calls it for template patches, query crops and MSS patches),
float32 on CPU, batch 1, on the patches the bench saved. Prints JSON {per_patch_s, patches}."""
import json
import sys
import time

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep models/export free of __pycache__
sys.path.insert(0, sys.argv[1])  # models/export, for the network definition
from export_medlam import MedLAM  # noqa: E402

state, patches_file, n, threads = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
net = MedLAM(base_chns=int(sys.argv[6]))
net.load_state_dict(torch.load(state, map_location='cpu'))
net.eval()
patches = np.fromfile(patches_file, dtype=np.float32).reshape(-1, 1, 1, 64, 64, 64)[:n]
times = []
with torch.no_grad():
    net(torch.from_numpy(patches[0]))  # warm-up
    for p in patches:
        t = time.perf_counter()
        net(torch.from_numpy(p))
        times.append(time.perf_counter() - t)
print(json.dumps({'per_patch_s': float(np.median(times)), 'patches': len(times)}))
