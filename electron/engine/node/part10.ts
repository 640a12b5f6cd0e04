/**
 * The DICOM file meta information (PS3.10 7.1) written in front of a data set received over the
 * network. The data set bytes are stored exactly as they arrived in the accepted transfer syntax (no
 * decoding and re-encoding, so no value is rewritten), which makes the stored file byte-for-byte the
 * sender's data set behind a standard 128-byte preamble, 'DICM' and group 0002 in Explicit VR Little
 * Endian.
 */
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from '../rtstruct/dcmjs.js';

export interface MetaInfo {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Source Application Entity Title (0002,0016): the calling AE that sent the instance. */
  sourceAeTitle?: string;
}

/** PS3.5 7.1.2: explicit VR, 2-byte length for UI/SH/AE/UL, 4-byte length (after 2 reserved bytes) for OB. */
function element(group: number, elem: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** UI values pad with NUL, text values with a space, to an even length (PS3.5 6.2). */
function text(value: string, pad: '\0' | ' '): Buffer {
  const v = value.length % 2 === 1 ? value + pad : value;
  return Buffer.from(v, 'latin1');
}

export function part10Header(m: MetaInfo): Buffer {
  const body = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 0x0002, 'UI', text(m.sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', text(m.sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(m.transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION, ' ')),
    ...(m.sourceAeTitle ? [element(0x0002, 0x0016, 'AE', text(m.sourceAeTitle, ' '))] : []),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  const groupLength = element(0x0002, 0x0000, 'UL', length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, body]);
}
