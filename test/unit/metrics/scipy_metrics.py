"""Independent reference for test/unit/metrics/scipy.test.ts: the same metrics computed with SciPy,
following medpy's surface-distance code (binary_erosion with 6-connectivity, distance_transform_edt
with sampling), which MedLSAM's evaluation uses. Reads a JSON job on stdin, prints JSON results."""
import json
import sys

import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt, generate_binary_structure

job = json.load(sys.stdin)
out = []
for case in job["cases"]:
    nx, ny, nz = case["dims"]
    # Volume layout: i fastest, so a C-order array indexed [k, j, i].
    a = np.fromfile(case["a"], dtype=np.uint8).reshape(nz, ny, nx).astype(bool)
    b = np.fromfile(case["b"], dtype=np.uint8).reshape(nz, ny, nx).astype(bool)
    sampling = list(reversed(case["spacing"]))
    fp = generate_binary_structure(3, 1)
    sa = a ^ binary_erosion(a, structure=fp, iterations=1)
    sb = b ^ binary_erosion(b, structure=fp, iterations=1)
    da = distance_transform_edt(~sb, sampling=sampling)[sa]
    db = distance_transform_edt(~sa, sampling=sampling)[sb]
    pooled = np.hstack((da, db))
    tol = case["toleranceMm"]
    out.append({
        "dice": 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b)),
        "hd95": float(np.percentile(pooled, 95)),
        "hausdorff": float(pooled.max()),
        "assd": float(pooled.mean()),
        "surfaceDice": float((np.count_nonzero(da <= tol + 1e-9) + np.count_nonzero(db <= tol + 1e-9)) / pooled.size),
    })
json.dump(out, sys.stdout)
