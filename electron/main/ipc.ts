/**
 * The IPC binding: one ipcMain.handle per api method (channel = method name, from API_METHOD_NAMES).
 * Every call is checked twice before the engine sees it: the sender frame must be our UI
 * (delineate://app/, policy.ts), and the request must pass the method's validator (API_METHODS).
 * Results and errors cross as envelopes ({result} | {error: ErrorPayload}); the renderer client
 * rebuilds the error.
 */
import { dialog, ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { API_EVENT_CHANNEL, API_METHOD_NAMES, API_METHODS, ApiValidationError, type ApiEnvelope, type ApiEventName, type ApiMethod } from '../api.js';
import { toErrorPayload, type ErrorPayload } from '../engine/errors.js';
import type { EngineService } from '../engine/service.js';
import { isAppUrl } from './policy.js';

function payload(e: unknown): ErrorPayload {
  if (e instanceof ApiValidationError) return { name: e.name, code: 'bad-input', message: e.message, context: {} };
  return toErrorPayload(e);
}

export function bindIpc(service: EngineService, window: () => BrowserWindow | undefined): () => void {
  const overrides: Partial<Record<ApiMethod, () => Promise<unknown>>> = {
    // The native folder dialog lives here, not in the engine.
    chooseFolder: async () => {
      const w = window();
      const r = w
        ? await dialog.showOpenDialog(w, { properties: ['openDirectory', 'multiSelections'] })
        : await dialog.showOpenDialog({ properties: ['openDirectory', 'multiSelections'] });
      return { paths: r.canceled ? [] : r.filePaths };
    },
  };
  for (const name of API_METHOD_NAMES) {
    ipcMain.handle(name, async (event: IpcMainInvokeEvent, raw: unknown): Promise<ApiEnvelope<unknown>> => {
      if (!isAppUrl(event.senderFrame?.url)) {
        return { error: { name: 'ForbiddenError', code: 'bad-input', message: `api call ${name} from a frame that is not the application`, context: {} } };
      }
      try {
        const req = API_METHODS[name](raw);
        const override = overrides[name];
        const result = override ? await override() : await (service[name] as (r: unknown) => Promise<unknown>)(req);
        return { result };
      } catch (e) {
        return { error: payload(e) };
      }
    });
  }
  const events: ApiEventName[] = ['progress'];
  const offs = events.map((event) =>
    service.on(event, (p) => {
      const w = window();
      if (w && !w.isDestroyed()) w.webContents.send(API_EVENT_CHANNEL, { event, payload: p });
    }),
  );
  return () => {
    for (const name of API_METHOD_NAMES) ipcMain.removeHandler(name);
    offs.forEach((o) => o());
  };
}
