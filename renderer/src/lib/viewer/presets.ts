/** Window/level presets (HU): the usual radiotherapy planning settings (width, level). */
export const WL_PRESETS = {
  'soft tissue': { width: 400, level: 40 },
  lung: { width: 1500, level: -600 },
  bone: { width: 1800, level: 400 },
  brain: { width: 80, level: 40 },
  'head and neck': { width: 350, level: 40 },
} as const;

export type PresetName = keyof typeof WL_PRESETS;

export function voiRange(p: { width: number; level: number }): { lower: number; upper: number } {
  return { lower: p.level - p.width / 2, upper: p.level + p.width / 2 };
}
