/**
 * The protocol version. Bump it whenever a message changes shape in a way an older reader would reject or
 * misread (a new required field, a renamed kind, a narrower range). The trainer sends it in `hello`; the
 * host refuses a trainer whose version differs (`isSupportedProtocolVersion`).
 */
export const PROTOCOL_VERSION = 1;

export function isSupportedProtocolVersion(version: number): boolean {
  return version === PROTOCOL_VERSION;
}
