// ONNX Runtime CPU peer for xfiq's benchmark: runs an ONNX file at a given
// batch and thread count and prints one JSON line with images per second.
// Fixed-batch-1 graphs need models/onnx_dynamic_batch.py first for batch > 1.
// img_per_s = batch * iters / total time; img_per_s_median = batch / median
// iteration time. Usage: node peer_ort.mjs --model M.onnx [--batch 1] [--iters 20] [--threads 2] [--warmup 3]
import * as ort from 'onnxruntime-node';
import path from 'node:path';

function parseArgs(argv) {
  const opt = { model: null, batch: 1, iters: 20, threads: 2, warmup: 3 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opt) || i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete option '${argv[i]}'`);
    }
    opt[key] = key === 'model' ? argv[++i] : Number(argv[++i]);
  }
  if (!opt.model) throw new Error('--model is required');
  for (const k of ['batch', 'iters', 'threads', 'warmup']) {
    if (!Number.isInteger(opt[k]) || opt[k] < (k === 'warmup' ? 0 : 1)) {
      throw new Error(`--${k} must be a positive integer`);
    }
  }
  return opt;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(opt.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opt.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  let dims = [opt.batch, 3, 112, 112];
  if (meta && Array.isArray(meta.shape) && meta.shape.length === 4) {
    const [n, c, h, w] = meta.shape;
    if (typeof n === 'number' && n !== opt.batch) {
      throw new Error(`${opt.model} has a fixed batch of ${n}; ` +
        'rewrite it with models/onnx_dynamic_batch.py IN OUT to run batch ' + opt.batch);
    }
    dims = [opt.batch, c, h, w];
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  let s = 12345;   // deterministic LCG: inputs in [-1, 1)
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s / 2147483648 - 1;
  }
  const feeds = { [inputName]: new ort.Tensor('float32', data, dims) };
  for (let i = 0; i < opt.warmup; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < opt.iters; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const secs = times.reduce((a, b) => a + b, 0);
  // The median rate resists other tenants of a shared 2-core machine.
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(JSON.stringify({
    peer: 'onnxruntime', version: ort.env.versions.node, model: path.basename(opt.model),
    batch: opt.batch, threads: opt.threads, iters: opt.iters,
    img_per_s: Number((opt.batch * opt.iters / secs).toFixed(2)),
    img_per_s_median: Number((opt.batch / median).toFixed(2)),
  }));
}

main().catch((e) => {
  console.error(`peer_ort: ${e.message}`);
  process.exit(1);
});
