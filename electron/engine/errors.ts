/**
 * One error family for the whole engine. Every error names the input at fault (file, series,
 * structure) so that the message reaching a planner says what to fix; it crosses IPC and the HTTP
 * bridge as {name, code, message, context} (see toErrorPayload) and is rebuilt on the other side.
 */

export interface ErrorContext {
  file?: string;
  seriesUid?: string;
  structure?: string;
  templateSet?: string;
  model?: string;
  [key: string]: string | number | undefined;
}

export type ErrorCode =
  | 'bad-input' // a file, series or argument that cannot be used as given
  | 'not-found' // a series, set, structure or file that does not exist
  | 'unsupported' // valid DICOM/NIfTI that the product refuses (gantry tilt, multi-frame, ...)
  | 'model' // missing or mismatched model files, ONNX Runtime failures
  | 'conflict' // the request contradicts what is stored
  | 'cancelled' // stopped by an AbortSignal
  | 'preflight' // an export refused by the TPS-safety checks
  | 'network' // DICOM association or transfer failure
  | 'storage' // the disk is full, read-only or refuses the write; the database is damaged
  | 'internal';

export class DelineateError extends Error {
  override readonly name: string = 'DelineateError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(withContext(message, context), options);
    this.code = code;
    this.context = context;
  }
}

export class InputError extends DelineateError {
  override readonly name = 'InputError';
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('bad-input', message, context, options);
  }
}

export class NotFoundError extends DelineateError {
  override readonly name = 'NotFoundError';
  constructor(message: string, context: ErrorContext = {}) {
    super('not-found', message, context);
  }
}

export class UnsupportedError extends DelineateError {
  override readonly name = 'UnsupportedError';
  constructor(message: string, context: ErrorContext = {}) {
    super('unsupported', message, context);
  }
}

export class ModelError extends DelineateError {
  override readonly name = 'ModelError';
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('model', message, context, options);
  }
}

export class CancelledError extends DelineateError {
  override readonly name = 'CancelledError';
  constructor(context: ErrorContext = {}) {
    super('cancelled', 'cancelled', context);
  }
}

/** Throws CancelledError when the signal has fired; call between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined, context: ErrorContext = {}): void {
  if (signal?.aborted) throw new CancelledError(context);
}

function withContext(message: string, context: ErrorContext): string {
  // The message already names its input when the caller wrote it that way; only add what is missing.
  const parts: string[] = [];
  for (const [k, v] of Object.entries(context)) {
    if (v === undefined || v === '') continue;
    if (message.includes(String(v))) continue;
    parts.push(`${k} ${v}`);
  }
  return parts.length > 0 ? `${message} (${parts.join(', ')})` : message;
}

/** The serialisable form of an error, as it crosses IPC and the bridge. */
export interface ErrorPayload {
  name: string;
  code: ErrorCode;
  message: string;
  context: ErrorContext;
}

export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof DelineateError) {
    return { name: err.name, code: err.code, message: err.message, context: err.context };
  }
  if (err instanceof Error) return { name: err.name, code: 'internal', message: err.message, context: {} };
  return { name: 'Error', code: 'internal', message: String(err), context: {} };
}

export function fromErrorPayload(p: ErrorPayload): DelineateError {
  const e = new DelineateError(p.code, p.message, {});
  Object.defineProperty(e, 'name', { value: p.name });
  Object.assign(e.context, p.context);
  return e;
}
