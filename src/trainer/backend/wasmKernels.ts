/**
 * Faster kernels for the tfjs wasm backend. Its BatchMatMul is fast (XNNPACK) only without transpose flags;
 * with `transposeA`/`transposeB` it is about 10x slower, and every matmul gradient uses those flags
 * (dA = dY B^T, dB = A^T dY). The override transposes the flagged operand explicitly (a cheap copy) and calls
 * the original kernel on its fast path. Its Identity and same-dtype Cast copy their input, and the gradient
 * tape saves every tensor a gradient needs through Identity (each saved tensor's gradient through Cast): the
 * overrides share the input's memory instead (tensors are immutable; the memory is reference-counted, as the
 * backend's own Reshape does). Idempotent.
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type KernelArgs = Parameters<KernelFunc>[0];

let installed = false;

function transposeLastTwo(info: tf.TensorInfo, transposeKernel: KernelFunc, backend: KernelArgs['backend']): tf.TensorInfo {
  const rank = info.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transposeKernel({ inputs: { x: info }, attrs: { perm }, backend }) as tf.TensorInfo;
}

/** Replaces the wasm BatchMatMul kernel with one that never takes the slow transposed path. */
export function installWasmKernels(): void {
  if (installed) return;
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!matMul || !transpose) throw new Error('the wasm backend has no BatchMatMul/Transpose kernel to wrap');
  const original = matMul.kernelFunc;
  const transposeFunc = transpose.kernelFunc;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: (args: KernelArgs) => {
      const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return original(args);
      const inputs = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const temporaries: tf.TensorInfo[] = [];
      let a = inputs.a;
      let b = inputs.b;
      if (attrs.transposeA) temporaries.push((a = transposeLastTwo(a, transposeFunc, args.backend)));
      if (attrs.transposeB) temporaries.push((b = transposeLastTwo(b, transposeFunc, args.backend)));
      const out = original({ ...args, inputs: { a, b }, attrs: { ...attrs, transposeA: false, transposeB: false } });
      const backend = args.backend as { disposeData(dataId: object): void };
      for (const t of temporaries) backend.disposeData(t.dataId);
      return out;
    },
  });
  for (const kernelName of ['Identity', 'Cast']) {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`the wasm backend has no ${kernelName} kernel to wrap`);
    const copying = kernel.kernelFunc;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: (args: KernelArgs) => {
        const x = (args.inputs as { x: tf.TensorInfo }).x;
        const dtype = (args.attrs as { dtype?: tf.DataType } | undefined)?.dtype ?? x.dtype;
        if (x.dtype === 'string' || dtype !== x.dtype) return copying(args);
        (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }
  installed = true;
}
