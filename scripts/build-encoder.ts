// Writes the default frozen vision encoder: media/encoder.onnx and media/encoder.json (its metadata).
// Deterministic: the same source gives the same bytes. Run: npx tsx scripts/build-encoder.ts
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildDesignedEncoder, designedEncoderMetadata } from '../src/trainer/encoder/designedEncoder.js';

const root = path.resolve(__dirname, '..');
const media = path.join(root, 'media');
const bytes = buildDesignedEncoder();
const sha256 = createHash('sha256').update(bytes).digest('hex');
const metadata = designedEncoderMetadata(sha256);
mkdirSync(media, { recursive: true });
writeFileSync(path.join(media, 'encoder.onnx'), bytes);
writeFileSync(path.join(media, 'encoder.json'), `${JSON.stringify(metadata, null, 2)}\n`);
console.log(`media/encoder.onnx: ${bytes.length} bytes, sha256 ${sha256}`);
