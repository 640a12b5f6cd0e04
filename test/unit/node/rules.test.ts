import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRulesAgainstArchive, matchRule, parseRules, readRulesFile, type SeriesAttributes } from '../../../electron/engine/node/rules.js';
import { InputError } from '../../../electron/engine/errors.js';
import { tempDir } from '../../helpers/data.js';

const ct: SeriesAttributes = { callingAe: 'CT_SIM', modality: 'CT', bodyPart: 'HEAD', seriesDescription: 'H&N planning 2mm', protocolName: 'RT HN', stationName: 'SIM1' };

test('rules: the first rule that matches wins; a series no rule matches gets none', () => {
  const rules = parseRules({
    allowedCallingAeTitles: ['CT_SIM', 'TPS'],
    rules: [
      { name: 'lung', match: { modality: 'ct', bodyPart: ['CHEST', 'LUNG'] }, templateSet: 'lung', destination: 'TPS' },
      { name: 'hn', match: { callingAe: 'CT_SIM', seriesDescription: 'h&n|head', protocolName: '^RT ', stationName: 'SIM\\d' }, templateSet: 'hn', destination: 'TPS@10.0.0.2:104', send: 'after-approval' },
      { name: 'catch-all', match: {}, templateSet: 'any', destination: 'TPS' },
    ],
  });
  assert.deepEqual(rules.allowedCallingAeTitles, ['CT_SIM', 'TPS']);
  assert.equal(matchRule(rules, ct)?.name, 'hn');
  assert.equal(matchRule(rules, ct)?.send, 'after-approval');
  assert.equal(matchRule(rules, { ...ct, bodyPart: 'lung' })?.name, 'lung');
  assert.equal(rules.rules[0]!.send, 'now', 'send defaults to now');
  // AE titles compare exactly; regular expressions ignore case.
  assert.equal(matchRule(rules, { ...ct, callingAe: 'ct_sim' })?.name, 'catch-all');
  assert.equal(matchRule(rules, { ...ct, stationName: 'OTHER' })?.name, 'catch-all');
  assert.equal(matchRule(parseRules({ rules: [rules.rules[0]!] }), ct), undefined);
});

test('rules: every mistake is an InputError naming the field', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /^rules: must be a JSON object/],
    [{ rule: [] }, /^rules\.rule: unknown key/],
    [{ rules: {} }, /^rules\.rules: must be an array/],
    [{ rules: [{ name: 'a', templateSet: 'x' }] }, /^rules\.rules\[0\]\.destination: must be a non-empty string/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T', match: { seriesDescription: '(' } }] }, /^rules\.rules\[0\]\.match\.seriesDescription: invalid regular expression/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T', match: { bodyPart: [] } }] }, /^rules\.rules\[0\]\.match\.bodyPart: must be a string or a non-empty array/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T', match: { modalty: 'CT' } }] }, /^rules\.rules\[0\]\.match\.modalty: unknown key/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T', send: 'later' }] }, /^rules\.rules\[0\]\.send: must be "now" or "after-approval"/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T@host:99999' }] }, /^rules\.rules\[0\]\.destination: .*port 99999/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T', match: { callingAe: 'A_VERY_LONG_AE_TITLE_X' } }] }, /^rules\.rules\[0\]\.match\.callingAe\[0\]: .*1-16 characters/],
    [{ rules: [{ name: 'a', templateSet: 'x', destination: 'T' }, { name: 'a', templateSet: 'y', destination: 'T' }] }, /^rules\.rules\[1\]\.name: duplicate rule name 'a'/],
    [{ allowedCallingAeTitles: 'back\\slash', rules: [] }, /^rules\.allowedCallingAeTitles\[0\]:/],
  ];
  for (const [value, re] of bad) assert.throws(() => parseRules(value), (e: unknown) => e instanceof InputError && re.test(e.message), JSON.stringify(value));
});

test('rules file: unreadable or invalid JSON names the file; field errors name file and field', (t) => {
  const dir = tempDir(t);
  assert.throws(() => readRulesFile(join(dir, 'none.json')), /cannot read rules file .*none\.json/);
  writeFileSync(join(dir, 'bad.json'), '{"rules": [');
  assert.throws(() => readRulesFile(join(dir, 'bad.json')), /rules file .*bad\.json is not valid JSON/);
  writeFileSync(join(dir, 'r.json'), JSON.stringify({ rules: [{ name: 'a', templateSet: '', destination: 'T' }] }));
  assert.throws(() => readRulesFile(join(dir, 'r.json')), /r\.json\.rules\[0\]\.templateSet: must be a non-empty string/);
});

test('rules: template sets and destination names must exist when the node starts', () => {
  const rules = parseRules({ rules: [{ name: 'a', templateSet: 'hn', destination: 'TPS' }, { name: 'b', templateSet: 'lung', destination: 'PACS@10.0.0.1:104' }] });
  const has = (sets: string[], dests: string[]) => ({ templateSet: (n: string) => sets.includes(n), destination: (n: string) => dests.includes(n) });
  checkRulesAgainstArchive(rules, has(['hn', 'lung'], ['TPS']));
  assert.throws(() => checkRulesAgainstArchive(rules, has(['hn'], ['TPS']), 'r.json'), /^.*r\.json\.rules\[1\]\.templateSet: template set 'lung' does not exist/);
  assert.throws(() => checkRulesAgainstArchive(rules, has(['hn', 'lung'], []), 'r.json'), /r\.json\.rules\[0\]\.destination: no saved destination named 'TPS'/);
});
