import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { part10Header } from '../../../electron/engine/node/part10.js';
import { chooseTransferSyntax } from '../../../electron/engine/node/scp.js';

const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof import('dicom-parser');

test('part10Header: preamble, DICM and a group 0002 that dicom-parser reads back, with a correct group length', () => {
  const h = part10Header({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.45', transferSyntaxUid: '1.2.840.10008.1.2', sourceAeTitle: 'CT_SIM' });
  assert.equal(h.subarray(128, 132).toString('latin1'), 'DICM');
  assert.ok(h.subarray(0, 128).every((b) => b === 0));
  // An implicit-VR data set behind it: one element, (0008,0018) SOP Instance UID.
  const body = Buffer.alloc(8 + 8);
  body.writeUInt16LE(0x0008, 0);
  body.writeUInt16LE(0x0018, 2);
  body.writeUInt32LE(8, 4);
  body.write('1.2.3.45', 8, 'latin1');
  const ds = dicomParser.parseDicom(new Uint8Array(Buffer.concat([h, body])));
  assert.equal(ds.string('x00020002'), '1.2.840.10008.5.1.4.1.1.2');
  assert.equal(ds.string('x00020003'), '1.2.3.45');
  assert.equal(ds.string('x00020010'), '1.2.840.10008.1.2');
  assert.equal(ds.string('x00020016'), 'CT_SIM');
  assert.equal(ds.string('x00080018'), '1.2.3.45');
  const groupLength = ds.uint32('x00020000')!;
  assert.equal(groupLength, h.length - 132 - 12, 'group length counts every meta element after itself');
});

test('chooseTransferSyntax: uncompressed first, then what the importer decodes, else none', () => {
  assert.equal(chooseTransferSyntax(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']), '1.2.840.10008.1.2.1');
  assert.equal(chooseTransferSyntax(['1.2.840.10008.1.2.4.70']), '1.2.840.10008.1.2.4.70');
  assert.equal(chooseTransferSyntax(['1.2.840.10008.1.2.4.100']), undefined);
});
