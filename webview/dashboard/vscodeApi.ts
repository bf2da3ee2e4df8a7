/**
 * The webview side of VS Code's API (`acquireVsCodeApi`, callable once per page), typed for the
 * Dashboard's messages.
 */
import type { WebviewToHostMessage } from '../../src/protocol/webview.js';

export interface WebviewApi<State> {
  postMessage(message: WebviewToHostMessage): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare global {
  function acquireVsCodeApi(): WebviewApi<unknown>;
}

/** The API, or a stand-in that drops messages when the page runs outside VS Code. */
export function vscodeApi(): WebviewApi<unknown> {
  if (typeof acquireVsCodeApi === 'function') return acquireVsCodeApi();
  let saved: unknown;
  return {
    postMessage: () => undefined,
    getState: () => saved,
    setState: (state) => {
      saved = state;
    },
  };
}
