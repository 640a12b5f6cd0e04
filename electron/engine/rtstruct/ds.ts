/**
 * Decimal strings (VR DS, PS3.5 6.2): at most 16 bytes per value. Some planning systems (Eclipse
 * among them) reject an RTSTRUCT whose ContourData holds a longer value, so every coordinate is
 * formatted here with as many decimals as fit, never more than `maxDecimals`.
 */
export function formatDS(v: number, maxDecimals = 6): string {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  for (let dec = maxDecimals; dec >= 0; dec--) {
    let s = v.toFixed(dec);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    if (s === '-0') s = '0';
    if (s.length <= 16) return s;
  }
  // Magnitudes above 1e16 never occur in patient coordinates; fall back to exponent form.
  return v.toExponential(9);
}

/** True when `s` is a valid DS value (PS3.5 Table 6.2-1: [+-]digits[.digits][E[+-]digits], <= 16 chars). */
export function isValidDS(s: string): boolean {
  return s.length > 0 && s.length <= 16 && /^[ ]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ ]*$/.test(s);
}
