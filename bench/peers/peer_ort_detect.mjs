// ONNX Runtime CPU peer for --detect: per image, fr_detect.onnx on one
// 1x3x240x320 input, then fr_landmark.onnx on one 1x1x64x64 crop, the two
// networks of xfiq's detection path (no image decoding, resizing, NMS or
// alignment: those are counted for xfiq only). Prints one JSON line.
// Usage: node peer_ort_detect.mjs --detect D.onnx --landmark L.onnx [--iters 50] [--threads 2] [--warmup 3]
import * as ort from 'onnxruntime-node';

function parseArgs(argv) {
  const opt = { detect: null, landmark: null, iters: 50, threads: 2, warmup: 3 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opt) || i + 1 >= argv.length) throw new Error(`unknown or incomplete option '${argv[i]}'`);
    opt[key] = key === 'detect' || key === 'landmark' ? argv[++i] : Number(argv[++i]);
  }
  if (!opt.detect || !opt.landmark) throw new Error('--detect and --landmark are required');
  return opt;
}

function noise(count) {
  const data = new Float32Array(count);
  let s = 12345;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s / 2147483648 - 1;
  }
  return data;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const so = { executionProviders: ['cpu'], intraOpNumThreads: opt.threads, interOpNumThreads: 1,
               executionMode: 'sequential', graphOptimizationLevel: 'all' };
  const det = await ort.InferenceSession.create(opt.detect, so);
  const lm = await ort.InferenceSession.create(opt.landmark, so);
  const fd = { [det.inputNames[0]]: new ort.Tensor('float32', noise(3 * 240 * 320), [1, 3, 240, 320]) };
  const fl = { [lm.inputNames[0]]: new ort.Tensor('float32', noise(64 * 64), [1, 1, 64, 64]) };
  const times = [];
  for (let i = -opt.warmup; i < opt.iters; i++) {
    const t0 = process.hrtime.bigint();
    await det.run(fd);
    await lm.run(fl);
    if (i >= 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const total = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ peer: 'onnxruntime-node', version: ort.env.versions ? ort.env.versions.common : '',
    what: 'fr_detect + fr_landmark', threads: opt.threads, iters: opt.iters,
    img_per_s: +(opt.iters / total).toFixed(2), img_per_s_median: +(1 / times[opt.iters >> 1]).toFixed(2) }));
}

main().catch((e) => { console.error(`peer_ort_detect: ${e.message}`); process.exit(1); });
