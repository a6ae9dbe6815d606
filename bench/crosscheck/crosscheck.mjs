// Runs an ONNX image encoder with onnxruntime-node on a float32 tensor that
// embedsearch wrote, and writes the raw output, so that a Go test can compare
// the two runtime paths on exactly the same input.
//
//   node crosscheck.mjs MODEL.onnx INPUT_NAME OUTPUT_NAME N,C,H,W IN.bin OUT.bin
//
// IN.bin and OUT.bin are little-endian float32, row-major. Prints the output
// shape and the onnxruntime-node version on stdout.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as ort from "onnxruntime-node";

const [model, inputName, outputName, shapeArg, inPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node crosscheck.mjs MODEL.onnx INPUT_NAME OUTPUT_NAME N,C,H,W IN.bin OUT.bin");
  process.exit(2);
}
const shape = shapeArg.split(",").map(Number);
const raw = readFileSync(inPath);
const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
if (data.length !== shape.reduce((a, b) => a * b, 1)) {
  console.error(`${inPath}: ${data.length} values for shape ${shape}`);
  process.exit(1);
}
const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
const out = await session.run({ [inputName]: new ort.Tensor("float32", data, shape) }, [outputName]);
const y = out[outputName];
writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
const version = createRequire(import.meta.url)("onnxruntime-node/package.json").version;
console.log(JSON.stringify({ shape: y.dims, onnxruntime_node: version }));
