/**
 * The byte form of a policy's named arrays (weights, optimiser state) for checkpoints and the base-policy
 * cache: one little-endian float32 buffer and an index {name: [offset, length]}.
 */

/** Named float32 arrays -> one byte buffer + an index {name: [offset, length]} (little-endian float32). */
export function packArrays(arrays: Record<string, Float32Array>): { bytes: Uint8Array; index: Record<string, [number, number]> } {
  const names = Object.keys(arrays).sort();
  let total = 0;
  const index: Record<string, [number, number]> = {};
  for (const name of names) {
    index[name] = [total, arrays[name].length];
    total += arrays[name].length;
  }
  const flat = new Float32Array(total);
  for (const name of names) flat.set(arrays[name], index[name][0]);
  return { bytes: new Uint8Array(flat.buffer), index };
}

export function unpackArrays(bytes: Uint8Array, index: Record<string, [number, number]>, where: string): Record<string, Float32Array> {
  if (bytes.byteLength % 4 !== 0) throw new Error(`${where}: ${bytes.byteLength} bytes is not a whole number of float32 values`);
  const flat = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out: Record<string, Float32Array> = {};
  for (const [name, [offset, length]] of Object.entries(index)) {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || offset + length > flat.length) {
      throw new Error(`${where}: array ${name} [${offset}, +${length}] lies outside the ${flat.length} stored values`);
    }
    out[name] = flat.slice(offset, offset + length);
  }
  return out;
}

/** True when every weight is finite (checked after each update so NaN never reaches a checkpoint). */
export function allFinite(weights: Readonly<Record<string, Float32Array>>): boolean {
  for (const values of Object.values(weights)) for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
