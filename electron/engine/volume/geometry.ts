/**
 * Voxel <-> patient geometry. Positions outside the engine are DICOM patient coordinates (LPS, mm,
 * PS3.3 C.7.6.2.1.1). A grid is dims [columns i, rows j, slices k], spacing per axis, origin = the
 * centre of voxel (0,0,0), and a 3x3 direction matrix stored row-major whose COLUMNS are the unit
 * directions of the i, j, k axes in LPS. Nothing here assumes axial-only or identity direction.
 */

export type Vec3 = [number, number, number];
/** Row-major 3x3; column c is the LPS direction of array axis c. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface Geometry {
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Continuous voxel index (i, j, k) -> LPS mm. */
export function voxelToPatient(g: Geometry, ijk: Vec3): Vec3 {
  const d = g.direction;
  const a = ijk[0] * g.spacing[0];
  const b = ijk[1] * g.spacing[1];
  const c = ijk[2] * g.spacing[2];
  return [
    g.origin[0] + d[0] * a + d[1] * b + d[2] * c,
    g.origin[1] + d[3] * a + d[4] * b + d[5] * c,
    g.origin[2] + d[6] * a + d[7] * b + d[8] * c,
  ];
}

/** LPS mm -> continuous voxel index. The direction matrix is orthonormal, so its inverse is its transpose. */
export function patientToVoxel(g: Geometry, p: Vec3): Vec3 {
  const d = g.direction;
  const x = p[0] - g.origin[0];
  const y = p[1] - g.origin[1];
  const z = p[2] - g.origin[2];
  return [
    (d[0] * x + d[3] * y + d[6] * z) / g.spacing[0],
    (d[1] * x + d[4] * y + d[7] * z) / g.spacing[1],
    (d[2] * x + d[5] * y + d[8] * z) / g.spacing[2],
  ];
}

/** 4x4 row-major affine mapping (i, j, k, 1) to LPS mm. */
export function voxelToPatientAffine(g: Geometry): number[] {
  const d = g.direction;
  const s = g.spacing;
  return [
    d[0] * s[0], d[1] * s[1], d[2] * s[2], g.origin[0],
    d[3] * s[0], d[4] * s[1], d[5] * s[2], g.origin[1],
    d[6] * s[0], d[7] * s[1], d[8] * s[2], g.origin[2],
    0, 0, 0, 1,
  ];
}

export function column(m: Mat3, c: 0 | 1 | 2): Vec3 {
  return c === 0 ? [m[0], m[3], m[6]] : c === 1 ? [m[1], m[4], m[7]] : [m[2], m[5], m[8]];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function voxelCount(g: Pick<Geometry, 'dims'>): number {
  return g.dims[0] * g.dims[1] * g.dims[2];
}

/** Linear index of voxel (i, j, k): i fastest (columns), then rows, then slices. */
export function linearIndex(dims: Vec3, i: number, j: number, k: number): number {
  return i + dims[0] * (j + dims[1] * k);
}
