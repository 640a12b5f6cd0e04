/**
 * Planar contours as they cross the engine boundary: closed polygons in DICOM patient coordinates
 * (LPS, mm), one polygon per ring. A structure on a slice is the even-odd combination of its rings
 * (PS3.3 C.8.8.6.3: "Contours ... with holes ... shall be encoded as separate contours"; inner rings
 * are holes, rings inside holes are islands), which is how treatment planning systems read them.
 */
import type { Vec3 } from '../volume/geometry.js';

export interface PlanarContour {
  /** Index of the slice (array axis k of the grid) the ring lies on. */
  sliceIndex: number;
  /** Ring vertices in LPS mm, not repeating the first point at the end (CLOSED_PLANAR). */
  points: Vec3[];
}

export interface MaskToContoursOptions {
  /**
   * Douglas-Peucker tolerance in mm (0 = exact voxel-edge outline). Every simplified vertex lies on
   * the exact outline and no point of the exact outline is farther than this from the simplified ring.
   */
  simplifyMm?: number;
  /** Only slices k0..k1 (inclusive); the caller knows the rest are empty (saves scanning them). */
  slices?: [number, number];
}
