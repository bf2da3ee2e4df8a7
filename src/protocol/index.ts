/**
 * The trainer <-> host <-> webview protocol: message types, runtime validation, version and framing.
 * Bundled into the extension host, the trainer and every webview, so it uses no Node or VS Code API.
 */
export { PROTOCOL_VERSION, isSupportedProtocolVersion } from './version.js';
export * from './limits.js';
export * from './liveConfig.js';
export * from './settings.js';
export * from './sessionConfig.js';
export * from './controls.js';
export * from './events.js';
export * from './parse.js';
export * from './framing.js';
export * from './groupsEvents.js';
export { FieldError, type JsonValue } from './schema.js';
export * from './webview.js';
export * from './rolloutsWebview.js';
export * from './format.js';
export * from './runFolderLayout.js';
export * from './metrics.js';
export * from './runFolderRecords.js';
export * from './runFolderReader.js';
