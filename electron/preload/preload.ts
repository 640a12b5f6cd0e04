/**
 * The preload (sandboxed, bundled to CommonJS by `npm run build:electron`): exposes the api as
 * window.delineate, one function per method named in API_METHOD_NAMES, plus onEvent. Never
 * ipcRenderer itself, never a generic invoke(channel).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHOD_NAMES } from '../api-methods.js';
import { API_EVENT_CHANNEL, type ApiEventName, type ApiEvents } from '../api.js';

const api: Record<string, unknown> = {};
for (const name of API_METHOD_NAMES) api[name] = (req: unknown) => ipcRenderer.invoke(name, req);
api.onEvent = (listener: (event: ApiEventName, payload: ApiEvents[ApiEventName]) => void) => {
  const handler = (_e: IpcRendererEvent, m: { event: ApiEventName; payload: ApiEvents[ApiEventName] }): void => listener(m.event, m.payload);
  ipcRenderer.on(API_EVENT_CHANNEL, handler);
  return () => {
    ipcRenderer.off(API_EVENT_CHANNEL, handler);
  };
};
contextBridge.exposeInMainWorld('delineate', Object.freeze(api));
