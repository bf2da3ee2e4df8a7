/**
 * The webview side of VS Code's API (`acquireVsCodeApi`, callable once per page), typed for one panel's
 * webview -> host messages.
 */

export interface WebviewApi<Message> {
  postMessage(message: Message): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** The API, or a stand-in that drops messages when the page runs outside VS Code. */
export function vscodeApi<Message>(): WebviewApi<Message> {
  const acquire = (globalThis as { acquireVsCodeApi?: () => WebviewApi<Message> }).acquireVsCodeApi;
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
