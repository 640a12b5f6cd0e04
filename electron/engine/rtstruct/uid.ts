/**
 * New UIDs under the 2.25 root: the decimal value of a random (version 4) UUID, PS3.5 B.2. Every
 * object we write gets fresh Series and SOP Instance UIDs; a reused UID makes a PACS or TPS silently
 * keep the old object.
 */
import { randomUUID } from 'node:crypto';

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

/** PS3.5 9.1: components of digits without leading zeros, separated by dots, at most 64 characters. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}
