// onnx_check.js — runs an exported model with onnxruntime-node and compares its outputs
// with the engine's (files written by tests/onnx_dump or by predict).
// usage: node tests/onnx_check.js [-t TOL] PREFIX...
//   PREFIX.onnx, PREFIX.json ({"inputs": [[name, type, dims], ...], "outputs": [names]}),
//   PREFIX.in0, PREFIX.in1 (raw little-endian inputs), PREFIX.out0, PREFIX.out1 (expected).
// Prints one line per model and output: "ok NAME max_rel R max_abs A" (or NOT OK), then
// with several prefixes the largest error over all, and exits 1 on any output whose
// relative error exceeds TOL [1e-4]. The relative error of a value is
// |ort - engine| / max(M, 1), M the largest |engine value| of the same example's output
// row (its logits, or its probabilities): relative to the scale of that example's outputs,
// so a logit that happens to be near 0 is not held to 1e-4 of itself, and absolute for
// outputs below 1 (probabilities; a click model's logit near 0), as numpy's allclose with
// rtol = atol.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function view(buf, type) {
  const b = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return type === 'int64' ? new BigInt64Array(b) : new Float32Array(b);
}

// Runs one model; returns [number of bad outputs, largest relative error].
async function check(prefix, tol, label) {
  const spec = JSON.parse(fs.readFileSync(prefix + '.json', 'utf8'));
  const session = await ort.InferenceSession.create(prefix + '.onnx');
  const feeds = {};
  spec.inputs.forEach(([name, type, dims], i) => {
    feeds[name] = new ort.Tensor(type, view(fs.readFileSync(`${prefix}.in${i}`), type), dims);
  });
  const res = await session.run(feeds);
  let bad = 0, worst = 0;
  spec.outputs.forEach((name, i) => {
    const want = view(fs.readFileSync(`${prefix}.out${i}`), 'float32');
    const got = res[name].data;
    let rel = 0, abs = 0;
    if (got.length !== want.length) {
      console.log(`NOT OK ${label}${name}: ${got.length} values, expected ${want.length}`);
      bad++;
      return;
    }
    const K = res[name].dims[res[name].dims.length - 1];
    for (let r = 0; r < want.length; r += K) {
      let m = 1;
      for (let k = r; k < r + K; k++) m = Math.max(m, Math.abs(want[k]));
      for (let k = r; k < r + K; k++) {
        const d = Math.abs(got[k] - want[k]);
        abs = Math.max(abs, d);
        rel = Math.max(rel, Number.isFinite(got[k]) ? d / m : Infinity);
      }
    }
    const ok = rel <= tol;
    if (!ok) bad++;
    worst = Math.max(worst, rel);
    console.log(`${ok ? 'ok' : 'NOT OK'} ${label}${name} max_rel ${rel.toExponential(2)} max_abs ${abs.toExponential(2)}`);
  });
  return [bad, worst];
}

async function main() {
  let args = process.argv.slice(2), tol = 1e-4;
  if (args[0] === '-t') tol = Number(args[1]), args = args.slice(2);
  let bad = 0, worst = 0;
  for (const prefix of args) {
    const label = args.length > 1 ? path.basename(prefix) + ' ' : '';
    try {
      const [b, w] = await check(prefix, tol, label);
      bad += b, worst = Math.max(worst, w);
    } catch (e) {
      console.log(`NOT OK ${label}onnxruntime: ${e.message}`);
      bad++;
    }
  }
  if (args.length > 1) console.log(`${args.length} models, largest error ${worst.toExponential(2)}`);
  process.exit(bad ? 1 : 0);
}

main().catch((e) => {
  console.log('NOT OK onnxruntime: ' + e.message);
  process.exit(1);
});
