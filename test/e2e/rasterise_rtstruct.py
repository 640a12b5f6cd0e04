"""Rasterises one ROI of an RTSTRUCT onto a series grid, independently of Delineate's reader (pydicom + numpy).

usage: rasterise_rtstruct.py RS.dcm ROI_NAME GEOMETRY_JSON  ->  JSON list of 0/1, i fastest, then j, then k

A voxel is inside when its centre lies inside an odd number of the ROI's contours on its slice
(even-odd rule: holes are contours inside contours, PS3.3 C.8.8.6.3).
"""
import json
import sys

import numpy as np
import pydicom

rs = pydicom.dcmread(sys.argv[1])
name = sys.argv[2]
g = json.loads(sys.argv[3])
nx, ny, nz = g["dims"]
sp = np.array(g["spacing"], float)
origin = np.array(g["origin"], float)
d = np.array(g["direction"], float).reshape(3, 3)  # columns = i, j, k axes

numbers = [r.ROINumber for r in rs.StructureSetROISequence if r.ROIName == name]
if not numbers:
    sys.exit(f"{sys.argv[1]}: no ROI named {name}")
roi = next(c for c in rs.ROIContourSequence if c.ReferencedROINumber == numbers[0])

# Voxel centres of one slice in LPS, as index -> patient (origin + D * diag(spacing) * ijk).
ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
mask = np.zeros((nz, ny, nx), np.uint8)
inv = np.linalg.inv(d @ np.diag(sp))
for c in getattr(roi, "ContourSequence", []):
    pts = np.array(c.ContourData, float).reshape(-1, 3)
    ijk = (inv @ (pts - origin).T).T
    k = int(round(ijk[0, 2]))
    if k < 0 or k >= nz:
        continue
    px, py = ijk[:, 0], ijk[:, 1]
    inside = np.zeros((ny, nx), bool)
    n = len(px)
    for a in range(n):
        b = (a - 1) % n
        xa, ya, xb, yb = px[a], py[a], px[b], py[b]
        cond = (ya > jj) != (yb > jj)
        with np.errstate(divide="ignore", invalid="ignore"):
            xcross = (xb - xa) * (jj - ya) / (yb - ya) + xa
        inside ^= cond & (ii < xcross)
    mask[k] ^= inside.astype(np.uint8)
print(json.dumps(mask.reshape(-1).tolist()))
