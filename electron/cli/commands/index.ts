/**
 * Every CLI command. Each lives in its own file beside this one; add a line here to register it.
 */
import type { Command } from '../command.js';

export const COMMANDS: Command[] = [];
