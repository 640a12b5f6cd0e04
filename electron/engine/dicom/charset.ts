/**
 * Text attributes (PN, LO, SH, ST, LT, UT, UC) are encoded in the character set named by
 * SpecificCharacterSet (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 6.1. dicom-parser decodes every byte
 * as one code unit (Latin-1), which garbles UTF-8 (ISO_IR 192) names; decode the raw bytes here.
 * ISO 2022 code extensions (escape sequences) are decoded with the first named set only.
 */
import type { DataSet } from 'dicom-parser';
import { TextDecoder } from 'node:util';

const ENCODINGS: Record<string, string> = {
  '': 'latin1',
  ISO_IR_6: 'latin1',
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'iso-8859-9',
  ISO_IR_203: 'iso-8859-15',
  ISO_IR_13: 'shift_jis',
  ISO_IR_166: 'windows-874',
  ISO_IR_192: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** The TextDecoder label for a SpecificCharacterSet value (first value; "ISO 2022 IR 100" -> ISO_IR 100). */
export function encodingFor(specificCharacterSet: string | undefined): string {
  const first = (specificCharacterSet ?? '').split('\\')[0]!.trim().toUpperCase();
  const key = first.replace(/^ISO 2022 IR /, 'ISO_IR ').replace(/[ -]/g, '_');
  return ENCODINGS[key] ?? 'latin1';
}

const decoders = new Map<string, TextDecoder>();

function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = new TextDecoder('latin1');
    }
    decoders.set(label, d);
  }
  return d;
}

/** A text attribute decoded in the dataset's character set, trailing spaces and NULs removed. */
export function decodeText(ds: DataSet, tag: string, encoding: string): string {
  const el = ds.elements[tag];
  if (!el || el.length <= 0) return '';
  const end = Math.min(el.dataOffset + el.length, ds.byteArray.length);
  if (end <= el.dataOffset) return '';
  const bytes = ds.byteArray.subarray(el.dataOffset, end);
  return decoder(encoding).decode(bytes).replace(/[\0 ]+$/, '').trim();
}
