/**
 * What each IPC channel does, without Electron (so it is unit-tested in Node): refuse a sender frame
 * that is not our UI, validate the request with API_METHODS, call the service (or an override such as
 * the native folder dialog), and answer with an envelope: {result} or {error: ErrorPayload}.
 */
import { API_METHOD_NAMES, API_METHODS } from '../api-methods.js';
import { ApiValidationError, type ApiEnvelope, type ApiMethod, type DelineateApi } from '../api.js';
import { toErrorPayload, type ErrorPayload } from '../engine/errors.js';
import { isAppUrl } from './policy.js';

export type IpcHandler = (senderUrl: string | undefined, raw: unknown) => Promise<ApiEnvelope<unknown>>;

function payload(e: unknown): ErrorPayload {
  if (e instanceof ApiValidationError) return { name: e.name, code: 'bad-input', message: e.message, context: {} };
  return toErrorPayload(e);
}

export function apiHandlers(service: DelineateApi, overrides: Partial<Record<ApiMethod, (req: unknown) => Promise<unknown>>> = {}): Record<ApiMethod, IpcHandler> {
  const out = {} as Record<ApiMethod, IpcHandler>;
  for (const name of API_METHOD_NAMES) {
    out[name] = async (senderUrl, raw) => {
      if (!isAppUrl(senderUrl)) {
        return { error: { name: 'ForbiddenError', code: 'bad-input', message: `api call ${name} from a frame that is not the application`, context: {} } };
      }
      try {
        const req = API_METHODS[name](raw);
        const override = overrides[name];
        const result = override ? await override(req) : await (service[name] as (r: unknown) => Promise<unknown>)(req);
        return { result };
      } catch (e) {
        return { error: payload(e) };
      }
    };
  }
  return out;
}
