#!/usr/bin/python3
"""Generate clip-tiny: a CLIP-shaped test model with random weights.

Run with Debian's python3-onnx and python3-numpy (no network, fixed seed,
byte-for-byte reproducible):

    /usr/bin/python3 testdata/models/clip-tiny/gen.py

It has the tensor names of the real CLIP exports the zoo registers
(Transformers.js / optimum, CLIP*ModelWithProjection), so the whole image
and text path runs end to end through onnxruntime:

    vision_model.onnx  pixel_values [N,3,32,32] float32 -> image_embeds [N,16]
    text_model.onnx    input_ids    [N,77]      int64   -> text_embeds  [N,16]

The text tower takes token ids up to 49407 (the CLIP vocabulary) through a
hashed embedding table (id mod 1024, 64 KiB instead of 49408 rows), adds a
position embedding, averages over the non-padding positions (pad id 0) and
projects. Embeddings therefore depend on the tokens and their order, not on
the padding.

golden_text.json holds, for a few strings, the reference tokenizer's ids and
the L2-normalised text embedding computed here with numpy, independently of
onnxruntime; the Go tests compare against it.
"""

import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261130
H = W = 32
DIM = 16
CONTEXT = 77
HASH = 1024
START, END = 49406, 49407
OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime >= 1.14

# Strings with their BPE ids from OpenAI's reference tokenizer
# (simple_tokenizer.py; the same ids as ../../../../shared/data/clip-tokenizer/golden.jsonl).
GOLDEN_TEXTS = [
    ("a photo of a dog", [320, 1125, 539, 320, 1929]),
    ("emoji \U0001F436\U0001F431 party \U0001F389", [16327, 14466, 22979, 1580, 3986]),
    ("\u00bfD\u00f3nde est\u00e1 la biblioteca?", [17133, 67, 8891, 77, 654, 2291, 22229, 1210, 23465, 28511, 1684, 286]),
    ("word " * 100, [2653] * 100),  # truncated to 75 ids + end token
]


def weights():
    rng = np.random.RandomState(SEED)
    w = {}
    w["conv.weight"] = rng.normal(0, 0.3, size=(8, 3, 3, 3)).astype(np.float32)
    w["conv.bias"] = rng.normal(0, 0.1, size=(8,)).astype(np.float32)
    w["fc.weight"] = rng.normal(0, 0.2, size=(8 * 4 * 4, DIM)).astype(np.float32)
    w["fc.bias"] = rng.normal(0, 0.1, size=(DIM,)).astype(np.float32)
    w["token.embedding"] = rng.normal(0, 1.0, size=(HASH, DIM)).astype(np.float32)
    w["position.embedding"] = rng.normal(0, 0.3, size=(CONTEXT, DIM)).astype(np.float32)
    w["text.projection"] = rng.normal(0, 0.5, size=(DIM, DIM)).astype(np.float32)
    w["text.bias"] = rng.normal(0, 0.1, size=(DIM,)).astype(np.float32)
    return w


def finish(graph):
    model = helper.make_model(graph, producer_name="embedsearch-testdata",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def vision_model(w):
    inits = [numpy_helper.from_array(w[k], k) for k in ("conv.weight", "conv.bias", "fc.weight", "fc.bias")]
    nodes = [
        helper.make_node("Conv", ["pixel_values", "conv.weight", "conv.bias"], ["c1"],
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("AveragePool", ["r1"], ["p1"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Flatten", ["p1"], ["f1"], axis=1),
        helper.make_node("Gemm", ["f1", "fc.weight", "fc.bias"], ["image_embeds"]),
    ]
    graph = helper.make_graph(
        nodes, "clip_tiny_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", 3, H, W])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch_size", DIM])],
        initializer=inits,
    )
    return finish(graph)


def text_model(w):
    inits = [numpy_helper.from_array(w[k], k) for k in
             ("token.embedding", "position.embedding", "text.projection", "text.bias")]
    inits += [
        numpy_helper.from_array(np.array(HASH, dtype=np.int64), "hash.size"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "pad.id"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis.seq"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis.feat"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Mod", ["input_ids", "hash.size"], ["bucket"]),
        helper.make_node("Gather", ["token.embedding", "bucket"], ["tok"], axis=0),   # [N,77,D]
        helper.make_node("Add", ["tok", "position.embedding"], ["x"]),
        helper.make_node("Equal", ["input_ids", "pad.id"], ["is_pad"]),
        helper.make_node("Not", ["is_pad"], ["keep_b"]),
        helper.make_node("Cast", ["keep_b"], ["keep"], to=TensorProto.FLOAT),          # [N,77]
        helper.make_node("Unsqueeze", ["keep", "axis.feat"], ["keep3"]),              # [N,77,1]
        helper.make_node("Mul", ["x", "keep3"], ["xm"]),
        helper.make_node("ReduceSum", ["xm", "axis.seq"], ["sum"], keepdims=0),        # [N,D]
        helper.make_node("ReduceSum", ["keep3", "axis.seq"], ["count0"], keepdims=0),  # [N,1]
        helper.make_node("Max", ["count0", "one"], ["count"]),
        helper.make_node("Div", ["sum", "count"], ["mean"]),
        helper.make_node("MatMul", ["mean", "text.projection"], ["proj"]),
        helper.make_node("Add", ["proj", "text.bias"], ["text_embeds"]),
    ]
    graph = helper.make_graph(
        nodes, "clip_tiny_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", CONTEXT])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", DIM])],
        initializer=inits,
    )
    return finish(graph)


def tokens77(bpe):
    ids = [START] + bpe[:CONTEXT - 2] + [END]
    return ids + [0] * (CONTEXT - len(ids))


def text_reference(w, ids):
    """The text tower in numpy, float64, L2-normalised."""
    ids = np.array(ids, dtype=np.int64)
    x = w["token.embedding"][ids % HASH].astype(np.float64) + w["position.embedding"]
    keep = (ids != 0).astype(np.float64)[:, None]
    mean = (x * keep).sum(axis=0) / max(keep.sum(), 1.0)
    v = mean @ w["text.projection"].astype(np.float64) + w["text.bias"]
    return v / np.linalg.norm(v)


def manifest(vision, text):
    def f(name, data):
        return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {
        "format": 1,
        "id": "clip-tiny-test-v1",
        "description": "CLIP-shaped test model (random weights): image and text towers with the real exports' tensor names",
        "license": "CC0-1.0 (random weights made by testdata/models/clip-tiny/gen.py)",
        "dim": DIM,
        "normalized": False,
        "files": [f("vision_model.onnx", vision), f("text_model.onnx", text)],
        "image": {
            "file": "vision_model.onnx",
            "input": {"name": "pixel_values", "dtype": "float32", "layout": "NCHW", "channels": 3,
                      "height": H, "width": W, "dynamic_batch": True},
            "output": {"name": "image_embeds", "dtype": "float32"},
        },
        "text": {
            "file": "text_model.onnx",
            "input": {"name": "input_ids", "dtype": "int64", "context": CONTEXT},
            "output": {"name": "text_embeds", "dtype": "float32"},
            "dynamic_batch": True,
        },
        "preprocess": {
            "resize": "shortest_crop", "size": H, "crop": [H, W],
            "interpolation": "bicubic", "rescale": 1 / 255,
            "mean": [0.48145466, 0.4578275, 0.40821073],
            "std": [0.26862954, 0.26130258, 0.27577711],
            "pad_color": [0, 0, 0],
        },
        "tokenizer": {"kind": "clip-bpe", "vocab": "", "context": CONTEXT, "pad_id": 0, "lowercase": True},
        "thresholds": {"exact": 0.01, "near": 0.2, "similar": 0.6},
    }


def main():
    w = weights()
    vision, text = vision_model(w), text_model(w)
    for name, data in (("vision_model.onnx", vision), ("text_model.onnx", text)):
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    with open(os.path.join(HERE, "manifest.json"), "w") as fh:
        json.dump(manifest(vision, text), fh, indent=2)
        fh.write("\n")
    golden = []
    for s, bpe in GOLDEN_TEXTS:
        ids = tokens77(bpe)
        golden.append({"text": s, "tokens77": ids,
                       "embedding": [round(float(x), 7) for x in text_reference(w, ids)]})
    with open(os.path.join(HERE, "golden_text.json"), "w") as fh:
        fh.write("[\n" + ",\n".join(json.dumps(g) for g in golden) + "\n]\n")


if __name__ == "__main__":
    main()
