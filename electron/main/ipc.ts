/**
 * The IPC binding: one ipcMain.handle per api method (channel = method name, from API_METHOD_NAMES),
 * each running the handler from ipc-handlers.ts with the sender frame's URL, so the sender check and
 * the validation happen before the engine sees anything. Engine events go out on API_EVENT_CHANNEL.
 */
import { dialog, ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { API_METHOD_NAMES } from '../api-methods.js';
import { API_EVENT_CHANNEL, type ApiEventName } from '../api.js';
import type { EngineService } from '../engine/service.js';
import { apiHandlers } from './ipc-handlers.js';

export function bindIpc(service: EngineService, window: () => BrowserWindow | undefined): () => void {
  const handlers = apiHandlers(service, {
    // The native folder dialog lives here, not in the engine.
    chooseFolder: async () => {
      const w = window();
      const opts = { properties: ['openDirectory', 'multiSelections'] as ('openDirectory' | 'multiSelections')[] };
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return { paths: r.canceled ? [] : r.filePaths };
    },
  });
  for (const name of API_METHOD_NAMES) {
    ipcMain.handle(name, (event: IpcMainInvokeEvent, raw: unknown) => handlers[name](event.senderFrame?.url, raw));
  }
  const events: ApiEventName[] = ['progress', 'runProgress'];
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
