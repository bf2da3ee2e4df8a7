/** The webview side of VS Code's API, typed for the Rollout Groups panel's messages. */
import type { RolloutsWebviewToHostMessage } from '../../src/protocol/rolloutsWebview.js';

export interface RolloutsApi {
  postMessage(message: RolloutsWebviewToHostMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** The API, or a stand-in that drops messages when the page runs outside VS Code. */
export function vscodeApi(): RolloutsApi {
  const acquire = (globalThis as { acquireVsCodeApi?: () => RolloutsApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') return acquire();
  let saved: unknown;
  return {
    postMessage: () => undefined,
    getState: () => saved,
    setState: (state) => {
      saved = state;
    },
  };
}
