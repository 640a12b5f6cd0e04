/**
 * TEST DOUBLES, not backends: an "oracle-shift" localizer and segmenter that read the query's own
 * reference labels and return them displaced by a known amount. They exist only to test the cohort
 * runner's plumbing (templates exclude the query, boxes and masks reach the metrics, summaries and
 * CSV) with answers known in advance. They must never be registered as product backends.
 */
import type { LocalizeRequest, LocalizedStructure, Localizer, ModelRef } from '../../../electron/engine/localize/localizer.js';
import type { SegmentRequest, SegmentedStructure, Segmenter } from '../../../electron/engine/segment/segmenter.js';
import { maskBoxLps } from '../../../electron/engine/metrics/boxes.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { LabelVolume } from '../../../electron/engine/volume/volume.js';
import { shifted } from './helpers.js';

type LabelsOf = (caseId: string) => Promise<LabelVolume>;

function maskOf(l: LabelVolume, value: number): Uint8Array {
  return Uint8Array.from(l.data, (v) => (v === value ? 1 : 0));
}

export class OracleShiftLocalizer implements Localizer {
  readonly name = 'oracle-shift-test-double';
  /** What each call saw: the query and, per structure, its template members. */
  readonly calls: { query: string; templateSet: string; members: Record<string, string[]> }[] = [];

  constructor(
    private readonly labelsOf: LabelsOf,
    private readonly values: Map<string, number>,
    private readonly shiftMm: Vec3,
  ) {}

  models(): ModelRef[] {
    return [];
  }

  async localize(req: LocalizeRequest): Promise<LocalizedStructure[]> {
    this.calls.push({
      query: req.seriesUid,
      templateSet: req.templateSet,
      members: Object.fromEntries(req.structures.map((s) => [s.name, s.members.map((m) => m.seriesUid)])),
    });
    const labels = await this.labelsOf(req.seriesUid);
    return req.structures.map((s) => {
      const box = maskBoxLps(maskOf(labels, this.values.get(s.name)!), labels);
      const boxes = box
        ? [{ min: box.min.map((v, a) => v + this.shiftMm[a]!) as Vec3, max: box.max.map((v, a) => v + this.shiftMm[a]!) as Vec3 }]
        : [];
      return { name: s.name, boxes, extremePoints: [], confidence: 1, flags: box ? [] : ['absent'] };
    });
  }
}

export class OracleShiftSegmenter implements Segmenter {
  readonly name = 'oracle-shift-segmenter-test-double';

  constructor(
    private readonly labelsOf: LabelsOf,
    private readonly values: Map<string, number>,
    private readonly shiftVoxels: Vec3,
  ) {}

  models(): ModelRef[] {
    return [];
  }

  async segment(req: SegmentRequest): Promise<SegmentedStructure[]> {
    const labels = await this.labelsOf(req.seriesUid);
    return req.structures.map((s) => {
      const mask = shifted(maskOf(labels, this.values.get(s.name)!), labels.dims, this.shiftVoxels);
      const voxels = mask.reduce((n, v) => n + v, 0);
      return { name: s.name, mask, voxels, volumeCc: 0, confidence: 1, flags: [] };
    });
  }
}
