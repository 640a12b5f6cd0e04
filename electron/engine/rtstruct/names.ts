/**
 * ROI names for export. RTSTRUCT names must be unique and at most 16 characters for Eclipse
 * (DESIGN.md "Output"); research label maps use longer names (TotalSegmentator's
 * "portal_vein_and_splenic_vein"). Known names map to their AAPM TG-263 form (Mayo et al. 2018,
 * Table of standard names); any other name over 16 characters is shortened TG-263-style
 * (Left/Right -> _L/_R suffix, standard abbreviations) and, if still too long, cut; clashes get a
 * numeric suffix. Every rename is reported.
 */
const TG263: Record<string, string> = {
  spleen: 'Spleen', liver: 'Liver', stomach: 'Stomach', pancreas: 'Pancreas', gallbladder: 'Gallbladder',
  kidney_left: 'Kidney_L', kidney_right: 'Kidney_R', adrenal_gland_left: 'Glnd_Adrenal_L', adrenal_gland_right: 'Glnd_Adrenal_R',
  esophagus: 'Esophagus', trachea: 'Trachea', thyroid_gland: 'Glnd_Thyroid', small_bowel: 'Bowel_Small', duodenum: 'Duodenum',
  colon: 'Colon', urinary_bladder: 'Bladder', prostate: 'Prostate', heart: 'Heart', aorta: 'A_Aorta', brain: 'Brain',
  inferior_vena_cava: 'V_Venacava_I', superior_vena_cava: 'V_Venacava_S', portal_vein_and_splenic_vein: 'V_PortalSplenic',
  pulmonary_vein: 'V_Pulmonary', iliac_artery_left: 'A_Iliac_L', iliac_artery_right: 'A_Iliac_R', iliac_vena_left: 'V_Iliac_L',
  iliac_vena_right: 'V_Iliac_R', spinal_cord: 'SpinalCord', sacrum: 'Sacrum', femur_left: 'Femur_L', femur_right: 'Femur_R',
  humerus_left: 'Humerus_L', humerus_right: 'Humerus_R', scapula_left: 'Scapula_L', scapula_right: 'Scapula_R',
  clavicula_left: 'Clavicle_L', clavicula_right: 'Clavicle_R', hip_left: 'Bone_Hip_L', hip_right: 'Bone_Hip_R',
  skull: 'Bone_Skull', sternum: 'Sternum', costal_cartilages: 'Cartlg_Costal', autochthon_left: 'Musc_Autochth_L',
  autochthon_right: 'Musc_Autochth_R', iliopsoas_left: 'Musc_Iliopsoas_L', iliopsoas_right: 'Musc_Iliopsoas_R',
  lung_left: 'Lung_L', lung_right: 'Lung_R', brainstem: 'Brainstem', larynx: 'Larynx', mandible: 'Bone_Mandible',
  leftparotid: 'Parotid_L', rightparotid: 'Parotid_R', parotid_left: 'Parotid_L', parotid_right: 'Parotid_R',
  spinalcord: 'SpinalCord',
};

const WORDS: Record<string, string> = {
  left: 'L', right: 'R', gland: 'Glnd', artery: 'A', vein: 'V', vena: 'V', muscle: 'Musc', bone: 'Bone',
  upper: 'Upr', lower: 'Lwr', middle: 'Mid', lobe: 'Lobe', vertebrae: 'VB', cartilage: 'Cartlg', superior: 'S', inferior: 'I',
  anterior: 'Ant', posterior: 'Post', and: '', of: '',
};

function shorten(name: string): string {
  const parts = name.split(/[_\s-]+/).filter(Boolean);
  const side = parts.filter((p) => /^(left|right)$/i.test(p)).map((p) => (p.toLowerCase() === 'left' ? 'L' : 'R'));
  const rest = parts
    .filter((p) => !/^(left|right)$/i.test(p))
    .map((p) => WORDS[p.toLowerCase()] ?? p.charAt(0).toUpperCase() + p.slice(1))
    .filter(Boolean);
  let out = [...rest, ...side].join('_');
  if (out.length > 16) out = rest.join('').slice(0, 16 - (side.length ? 2 : 0)) + (side.length ? `_${side.join('')}` : '');
  return out.slice(0, 16);
}

/** Export names for `names` (same order): TG-263 where known, <= 16 characters, unique. */
export function exportNames(names: string[]): { names: string[]; renamed: Array<{ from: string; to: string }> } {
  const used = new Set<string>();
  const renamed: Array<{ from: string; to: string }> = [];
  const out = names.map((n) => {
    const key = n.trim().toLowerCase();
    let name = TG263[key] ?? (n.trim().length <= 16 ? n.trim() : shorten(n.trim()));
    name = name.replace(/\\/g, '_');
    let candidate = name;
    for (let i = 2; used.has(candidate.toUpperCase()); i++) candidate = `${name.slice(0, 16 - String(i).length - 1)}_${i}`;
    used.add(candidate.toUpperCase());
    if (candidate !== n) renamed.push({ from: n, to: candidate });
    return candidate;
  });
  return { names: out, renamed };
}
