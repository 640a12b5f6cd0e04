/**
 * The node's rules (JSON): which received series are contoured with which template set and sent
 * where. Validated strictly: an unknown key, a wrong type, a regular expression that does not compile
 * or an invalid AE title is an error naming the field (`rules[1].match.seriesDescription: ...`), so
 * a typo never silently turns a rule off on a clinical node. The first rule that matches wins; a
 * series no rule matches is imported and listed, nothing else.
 *
 * {
 *   "allowedCallingAeTitles": ["CT_SIM", "TPS"],          // optional: any calling AE when absent
 *   "rules": [{
 *     "name": "head-and-neck",
 *     "match": { "callingAe": ["CT_SIM"], "modality": "CT", "bodyPart": ["HEAD", "NECK"],
 *                "seriesDescription": "H&N|head", "protocolName": "...", "stationName": "..." },
 *     "templateSet": "hn",
 *     "destination": "TPS" | "AET@HOST:PORT",               // a saved destination name or an address
 *     "send": "now" | "after-approval"
 *   }]
 * }
 *
 * callingAe is compared exactly (PS3.5 AE titles are case-sensitive); modality and bodyPart ignore
 * case; seriesDescription, protocolName and stationName are regular expressions, case-insensitive.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { parseDestination, validateAeTitle } from '../dimse/destination.js';

export type SendMode = 'now' | 'after-approval';

export interface RuleMatch {
  callingAe?: string[];
  modality?: string[];
  bodyPart?: string[];
  seriesDescription?: RegExp;
  protocolName?: RegExp;
  stationName?: RegExp;
}

export interface Rule {
  name: string;
  match: RuleMatch;
  templateSet: string;
  destination: string;
  send: SendMode;
}

export interface NodeRules {
  allowedCallingAeTitles?: string[];
  rules: Rule[];
}

/** The attributes of a received series that rules look at. */
export interface SeriesAttributes {
  callingAe: string;
  modality: string;
  bodyPart: string;
  seriesDescription: string;
  protocolName: string;
  stationName: string;
}

const RULE_KEYS = ['name', 'match', 'templateSet', 'destination', 'send'];
const MATCH_KEYS = ['callingAe', 'modality', 'bodyPart', 'seriesDescription', 'protocolName', 'stationName'];

function fail(where: string, message: string): never {
  throw new InputError(`${where}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where}.${k}`, `unknown key (expected one of ${allowed.join(', ')})`);
}

function nonEmptyString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.trim() === '') fail(where, 'must be a non-empty string');
  return v.trim();
}

/** A string or an array of strings. */
function stringList(v: unknown, where: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) fail(where, 'must be a string or a non-empty array of strings');
  return list.map((x, i) => nonEmptyString(x, `${where}[${i}]`));
}

function regex(v: unknown, where: string): RegExp {
  const s = nonEmptyString(v, where);
  try {
    return new RegExp(s, 'i');
  } catch (e) {
    return fail(where, `invalid regular expression /${s}/: ${(e as Error).message}`);
  }
}

function aeTitles(v: unknown, where: string): string[] {
  return stringList(v, where).map((ae, i) => {
    try {
      return validateAeTitle(ae);
    } catch (e) {
      return fail(`${where}[${i}]`, (e as Error).message);
    }
  });
}

function parseMatch(v: unknown, where: string): RuleMatch {
  if (!isObject(v)) fail(where, 'must be an object (use {} to match every series)');
  checkKeys(v, MATCH_KEYS, where);
  const m: RuleMatch = {};
  if (v.callingAe !== undefined) m.callingAe = aeTitles(v.callingAe, `${where}.callingAe`);
  if (v.modality !== undefined) m.modality = stringList(v.modality, `${where}.modality`).map((s) => s.toUpperCase());
  if (v.bodyPart !== undefined) m.bodyPart = stringList(v.bodyPart, `${where}.bodyPart`).map((s) => s.toUpperCase());
  if (v.seriesDescription !== undefined) m.seriesDescription = regex(v.seriesDescription, `${where}.seriesDescription`);
  if (v.protocolName !== undefined) m.protocolName = regex(v.protocolName, `${where}.protocolName`);
  if (v.stationName !== undefined) m.stationName = regex(v.stationName, `${where}.stationName`);
  return m;
}

export function parseRules(value: unknown, source = 'rules'): NodeRules {
  if (!isObject(value)) fail(source, 'must be a JSON object with a "rules" array');
  checkKeys(value, ['allowedCallingAeTitles', 'rules'], source);
  const out: NodeRules = { rules: [] };
  if (value.allowedCallingAeTitles !== undefined) out.allowedCallingAeTitles = aeTitles(value.allowedCallingAeTitles, `${source}.allowedCallingAeTitles`);
  if (!Array.isArray(value.rules)) fail(`${source}.rules`, 'must be an array');
  const names = new Set<string>();
  value.rules.forEach((r: unknown, i: number) => {
    const where = `${source}.rules[${i}]`;
    if (!isObject(r)) fail(where, 'must be an object');
    checkKeys(r, RULE_KEYS, where);
    const name = nonEmptyString(r.name, `${where}.name`);
    if (names.has(name)) fail(`${where}.name`, `duplicate rule name '${name}'`);
    names.add(name);
    const destination = nonEmptyString(r.destination, `${where}.destination`);
    if (destination.includes('@')) {
      try {
        parseDestination(destination);
      } catch (e) {
        fail(`${where}.destination`, (e as Error).message);
      }
    }
    const send = r.send ?? 'now';
    if (send !== 'now' && send !== 'after-approval') fail(`${where}.send`, `must be "now" or "after-approval", not ${JSON.stringify(send)}`);
    out.rules.push({ name, match: parseMatch(r.match ?? {}, `${where}.match`), templateSet: nonEmptyString(r.templateSet, `${where}.templateSet`), destination, send });
  });
  return out;
}

export function readRulesFile(file: string): NodeRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read rules file ${file}: ${(e as Error).message}`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`rules file ${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
  return parseRules(json, file);
}

export function ruleMatches(m: RuleMatch, a: SeriesAttributes): boolean {
  if (m.callingAe && !m.callingAe.includes(a.callingAe)) return false;
  if (m.modality && !m.modality.includes(a.modality.toUpperCase())) return false;
  if (m.bodyPart && !m.bodyPart.includes(a.bodyPart.toUpperCase())) return false;
  if (m.seriesDescription && !m.seriesDescription.test(a.seriesDescription)) return false;
  if (m.protocolName && !m.protocolName.test(a.protocolName)) return false;
  if (m.stationName && !m.stationName.test(a.stationName)) return false;
  return true;
}

export function matchRule(rules: NodeRules, a: SeriesAttributes): Rule | undefined {
  return rules.rules.find((r) => ruleMatches(r.match, a));
}

/**
 * The names a rule refers to must exist when the node starts: a template set of the archive and, for
 * a destination given by name, a saved destination. Checked at start so that a typo is an error
 * naming the rule, not a job that fails on the first patient.
 */
export function checkRulesAgainstArchive(
  rules: NodeRules,
  has: { templateSet(name: string): boolean; destination(name: string): boolean },
  source = 'rules',
): void {
  rules.rules.forEach((r, i) => {
    if (!has.templateSet(r.templateSet)) fail(`${source}.rules[${i}].templateSet`, `template set '${r.templateSet}' does not exist in this archive`);
    if (!r.destination.includes('@') && !has.destination(r.destination)) {
      fail(`${source}.rules[${i}].destination`, `no saved destination named '${r.destination}' (save one with send --save NAME, or write AET@HOST:PORT)`);
    }
  });
}
