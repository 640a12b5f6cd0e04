/**
 * The structure catalogue: AAPM TG-263 standard names (Mayo et al., "American Association of Physicists
 * in Medicine Task Group 263: Standardizing Nomenclatures in Radiation Oncology", IJROBP 2018) for the
 * organs at risk planners contour most, with display colours and the RT ROI Interpreted Type
 * (PS3.3 C.8.8.8) written into RTSTRUCT. Primary names are at most 16 characters, the limit some
 * treatment planning systems (Eclipse) enforce. Custom names are allowed (validateStructureName).
 */
import { InputError } from '../errors.js';

export type Site = 'head-and-neck' | 'thorax' | 'abdomen' | 'pelvis' | 'whole-body';

export interface CatalogueStructure {
  name: string;
  color: string;
  site: Site;
  interpretedType: 'ORGAN' | 'AVOIDANCE' | 'EXTERNAL';
  description: string;
}

const S = (name: string, color: string, site: Site, description: string, interpretedType: CatalogueStructure['interpretedType'] = 'ORGAN'): CatalogueStructure => ({
  name,
  color,
  site,
  interpretedType,
  description,
});

export const STRUCTURE_CATALOGUE: readonly CatalogueStructure[] = [
  // head and neck
  S('Brain', '#ffd39b', 'head-and-neck', 'brain'),
  S('Brainstem', '#ff8c00', 'head-and-neck', 'brainstem'),
  S('SpinalCord', '#ffff00', 'head-and-neck', 'spinal cord'),
  S('Parotid_L', '#00ced1', 'head-and-neck', 'left parotid gland'),
  S('Parotid_R', '#1e90ff', 'head-and-neck', 'right parotid gland'),
  S('Glnd_Submand_L', '#9acd32', 'head-and-neck', 'left submandibular gland'),
  S('Glnd_Submand_R', '#6b8e23', 'head-and-neck', 'right submandibular gland'),
  S('Bone_Mandible', '#f5deb3', 'head-and-neck', 'mandible'),
  S('Larynx', '#da70d6', 'head-and-neck', 'larynx'),
  S('Musc_Constrict', '#cd5c5c', 'head-and-neck', 'pharyngeal constrictor muscles'),
  S('Cavity_Oral', '#ff69b4', 'head-and-neck', 'oral cavity'),
  S('Lips', '#ff1493', 'head-and-neck', 'lips'),
  S('Glnd_Thyroid', '#8a2be2', 'head-and-neck', 'thyroid gland'),
  S('Eye_L', '#87cefa', 'head-and-neck', 'left eye (globe)'),
  S('Eye_R', '#4682b4', 'head-and-neck', 'right eye (globe)'),
  S('Lens_L', '#e0ffff', 'head-and-neck', 'left lens'),
  S('Lens_R', '#afeeee', 'head-and-neck', 'right lens'),
  S('OpticNrv_L', '#adff2f', 'head-and-neck', 'left optic nerve'),
  S('OpticNrv_R', '#7fff00', 'head-and-neck', 'right optic nerve'),
  S('OpticChiasm', '#32cd32', 'head-and-neck', 'optic chiasm'),
  S('Cochlea_L', '#ffa07a', 'head-and-neck', 'left cochlea'),
  S('Cochlea_R', '#fa8072', 'head-and-neck', 'right cochlea'),
  S('Pituitary', '#dda0dd', 'head-and-neck', 'pituitary gland'),
  S('BrachialPlex_L', '#b8860b', 'head-and-neck', 'left brachial plexus'),
  S('BrachialPlex_R', '#daa520', 'head-and-neck', 'right brachial plexus'),
  // thorax
  S('Lung_L', '#00bfff', 'thorax', 'left lung'),
  S('Lung_R', '#87ceeb', 'thorax', 'right lung'),
  S('Lungs', '#5f9ea0', 'thorax', 'both lungs'),
  S('Heart', '#ff0000', 'thorax', 'heart'),
  S('Esophagus', '#ffb6c1', 'thorax', 'oesophagus'),
  S('Trachea', '#40e0d0', 'thorax', 'trachea'),
  S('Bronchus', '#48d1cc', 'thorax', 'proximal bronchial tree'),
  S('A_Aorta', '#b22222', 'thorax', 'aorta'),
  S('V_Venacava_S', '#4169e1', 'thorax', 'superior vena cava'),
  S('Breast_L', '#ffe4e1', 'thorax', 'left breast'),
  S('Breast_R', '#ffdab9', 'thorax', 'right breast'),
  S('Chestwall', '#d2b48c', 'thorax', 'chest wall'),
  // abdomen
  S('Liver', '#8b4513', 'abdomen', 'liver'),
  S('Stomach', '#ff7f50', 'abdomen', 'stomach'),
  S('Duodenum', '#f4a460', 'abdomen', 'duodenum'),
  S('Bowel_Small', '#deb887', 'abdomen', 'small bowel'),
  S('Bowel_Large', '#d2691e', 'abdomen', 'large bowel'),
  S('Kidney_L', '#9370db', 'abdomen', 'left kidney'),
  S('Kidney_R', '#7b68ee', 'abdomen', 'right kidney'),
  S('Spleen', '#800080', 'abdomen', 'spleen'),
  S('Pancreas', '#ee82ee', 'abdomen', 'pancreas'),
  S('Gallbladder', '#2e8b57', 'abdomen', 'gallbladder'),
  S('Glnd_Adrenal_L', '#bdb76b', 'abdomen', 'left adrenal gland'),
  S('Glnd_Adrenal_R', '#808000', 'abdomen', 'right adrenal gland'),
  S('SpinalCanal', '#f0e68c', 'abdomen', 'spinal canal'),
  // pelvis
  S('Bladder', '#ffff66', 'pelvis', 'urinary bladder'),
  S('Rectum', '#a0522d', 'pelvis', 'rectum'),
  S('Colon_Sigmoid', '#cd853f', 'pelvis', 'sigmoid colon'),
  S('Bag_Bowel', '#ffdead', 'pelvis', 'bowel bag'),
  S('Prostate', '#00fa9a', 'pelvis', 'prostate'),
  S('SeminalVes', '#3cb371', 'pelvis', 'seminal vesicles'),
  S('PenileBulb', '#66cdaa', 'pelvis', 'penile bulb'),
  S('Femur_Head_L', '#c0c0c0', 'pelvis', 'left femoral head'),
  S('Femur_Head_R', '#a9a9a9', 'pelvis', 'right femoral head'),
  S('Uterus', '#ffc0cb', 'pelvis', 'uterus'),
  S('Anorectum', '#8b0000', 'pelvis', 'anorectum'),
  // whole body
  S('External', '#00ff00', 'whole-body', 'body outline', 'EXTERNAL'),
];

const BY_NAME = new Map(STRUCTURE_CATALOGUE.map((s) => [s.name.toLowerCase(), s]));

export function catalogueEntry(name: string): CatalogueStructure | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Most TPSs refuse ROI names over 16 characters (Eclipse); RTSTRUCT ROIName is LO (no backslash, PS3.5 6.2). */
export const MAX_STRUCTURE_NAME = 16;

export function validateStructureName(name: string): string {
  const n = name.trim();
  if (n.length === 0) throw new InputError('structure name is empty');
  if (n.length > MAX_STRUCTURE_NAME) {
    throw new InputError(`structure name '${n}' has ${n.length} characters; at most ${MAX_STRUCTURE_NAME} are allowed (TG-263)`, { structure: n });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(n)) {
    throw new InputError(`structure name '${n}' contains a backslash or control character, not allowed in DICOM LO`, { structure: n });
  }
  return n;
}

const COLOR = /^#[0-9a-fA-F]{6}$/;

export function validateColor(color: string, structure: string): string {
  if (!COLOR.test(color)) throw new InputError(`colour '${color}' of structure ${structure} is not #rrggbb`, { structure });
  return color.toLowerCase();
}

/** A stable colour for a custom name (hash to hue), so the same name always looks the same. */
export function defaultColor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const hue = h % 360;
  // HSL(hue, 70%, 55%) -> RGB
  const s = 0.7;
  const l = 0.55;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = hue < 60 ? [c, x, 0] : hue < 120 ? [x, c, 0] : hue < 180 ? [0, c, x] : hue < 240 ? [0, x, c] : hue < 300 ? [x, 0, c] : [c, 0, x];
  const hex = (v: number): string => Math.round((v + m) * 255).toString(16).padStart(2, '0');
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}
