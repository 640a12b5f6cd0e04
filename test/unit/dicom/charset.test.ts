/** SpecificCharacterSet (0008,0005) to a decoder: PS3.3 C.12.1.1.2 defined terms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodingFor } from '../../../electron/engine/dicom/charset.js';

test('defined terms map to decoders; absent or unknown falls back to Latin-1', () => {
  assert.equal(encodingFor('ISO_IR 192'), 'utf-8');
  assert.equal(encodingFor('ISO_IR 100'), 'latin1');
  assert.equal(encodingFor('ISO 2022 IR 100'), 'latin1');
  assert.equal(encodingFor('ISO_IR 144'), 'iso-8859-5');
  assert.equal(encodingFor('GB18030'), 'gb18030');
  assert.equal(encodingFor(undefined), 'latin1');
  assert.equal(encodingFor('\\ISO 2022 IR 87'), 'latin1');
  assert.equal(encodingFor('SOMETHING ELSE'), 'latin1');
});
