#!/usr/bin/python3
"""Generate the tiny test encoders under testdata/models.

Run from anywhere with Debian's python3-onnx and python3-numpy:

    /usr/bin/python3 testdata/models/gen.py

Every model is built node by node with onnx.helper from weights drawn from a
fixed seed, so the output is byte-for-byte reproducible. The encoders are
small but real: a strided convolution, ReLU, average pooling that keeps a
4x4 spatial grid, and a linear layer, so the embedding depends on where
things are in the image, not only on its mean colour.

    tiny/        3x32x32 -> 16, dynamic batch axis ("batch")
    tiny-fixed/  the same weights with the batch axis fixed at 3
    mismatch/    the tiny graph with a manifest that disagrees with it
                 (input name, size and dim), for the load-time check
    tiny224/     3x224x224 -> 16 with CLIP's preprocessing, so that
                 benchmarks prepare images at a real model's size

tiny/golden.json holds the tiny encoder's output computed here with numpy
(float64, no onnxruntime) for three input tensors given by a formula, so a
Go test can check the whole runtime path against an independent reference.
"""

import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261129
H = W = 32
DIM = 16
OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime >= 1.14


def weights(seed=SEED):
    rng = np.random.RandomState(seed)
    conv_w = rng.normal(0, 0.3, size=(8, 3, 3, 3)).astype(np.float32)
    conv_b = rng.normal(0, 0.1, size=(8,)).astype(np.float32)
    fc_w = rng.normal(0, 0.2, size=(8 * 4 * 4, DIM)).astype(np.float32)
    fc_b = rng.normal(0, 0.1, size=(DIM,)).astype(np.float32)
    return conv_w, conv_b, fc_w, fc_b


def encoder(batch, input_name="pixel_values", output_name="embedding", size=H):
    conv_w, conv_b, fc_w, fc_b = weights()
    # 3xSxS -> 8x(S/2)x(S/2) -> 8x4x4 whatever S is
    pool = size // 8
    inits = [
        numpy_helper.from_array(conv_w, "conv.weight"),
        numpy_helper.from_array(conv_b, "conv.bias"),
        numpy_helper.from_array(fc_w, "fc.weight"),
        numpy_helper.from_array(fc_b, "fc.bias"),
    ]
    nodes = [
        # 3x32x32 -> 8x16x16
        helper.make_node("Conv", [input_name, "conv.weight", "conv.bias"], ["c1"],
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        # 8x16x16 -> 8x4x4
        helper.make_node("AveragePool", ["r1"], ["p1"], kernel_shape=[pool, pool], strides=[pool, pool]),
        helper.make_node("Flatten", ["p1"], ["f1"], axis=1),
        helper.make_node("Gemm", ["f1", "fc.weight", "fc.bias"], [output_name]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_encoder",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [batch, DIM])],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="embedsearch-testdata",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def manifest(model_id, onnx_bytes, dynamic, input_name="pixel_values", output_name="embedding",
             height=H, width=W, dim=DIM, description=""):
    return {
        "format": 1,
        "id": model_id,
        "description": description,
        "license": "CC0-1.0 (random weights made by testdata/models/gen.py)",
        "dim": dim,
        "normalized": False,
        "files": [{
            "name": "model.onnx",
            "size": len(onnx_bytes),
            "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        }],
        "image": {
            "file": "model.onnx",
            "input": {
                "name": input_name, "dtype": "float32", "layout": "NCHW", "channels": 3,
                "height": height, "width": width, "dynamic_batch": dynamic,
            },
            "output": {"name": output_name, "dtype": "float32"},
        },
        "preprocess": {
            "resize": "shortest_crop", "size": height, "crop": [height, width],
            "interpolation": "bicubic", "rescale": 1 / 255,
            "mean": [0.48145466, 0.4578275, 0.40821073],
            "std": [0.26862954, 0.26130258, 0.27577711],
            "pad_color": [0, 0, 0],
        },
        "thresholds": {"exact": 0.01, "near": 0.2, "similar": 0.6},
    }


def golden_input(batch):
    """x[b,c,h,w] = 2*sin(0.01*(b+1)*(c*H*W + h*W + w) + b), the same formula as the Go test."""
    b, c, h, w = np.meshgrid(np.arange(batch), np.arange(3), np.arange(H), np.arange(W), indexing="ij")
    flat = c * H * W + h * W + w
    return (2 * np.sin(0.01 * (b + 1) * flat + b)).astype(np.float32).astype(np.float64)


def reference(x):
    """The tiny encoder's forward pass in numpy (float64), L2-normalised."""
    conv_w, conv_b, fc_w, fc_b = (a.astype(np.float64) for a in weights())
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], 8, H // 2, W // 2))
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, :, ky:ky + H:2, kx:kx + W:2]
            out += np.einsum("bchw,oc->bohw", patch, conv_w[:, :, ky, kx])
    out = np.maximum(out + conv_b[None, :, None, None], 0)
    pooled = out.reshape(x.shape[0], 8, 4, 4, 4, 4).mean(axis=(3, 5))
    y = pooled.reshape(x.shape[0], -1) @ fc_w + fc_b
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def write(name, model, man):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")


def main():
    dyn = encoder("batch").SerializeToString()
    write("tiny", dyn, manifest("tiny-test-v1", dyn, True,
                                description="test encoder, dynamic batch"))
    with open(os.path.join(HERE, "tiny", "golden.json"), "w") as f:
        json.dump({"batch": 3, "formula": golden_input.__doc__,
                   "vectors": [[float("%.9g" % v) for v in row] for row in reference(golden_input(3))]}, f, indent=1)
        f.write("\n")
    fixed = encoder(3).SerializeToString()
    write("tiny-fixed", fixed, manifest("tiny-fixed-test-v1", fixed, False,
                                        description="test encoder, batch fixed at 3 (same weights as tiny)"))
    # The graph says pixel_values 3x32x32 -> 16; this manifest says otherwise.
    write("mismatch", dyn, manifest("mismatch-test-v1", dyn, True, input_name="images",
                                    height=64, width=64, dim=32,
                                    description="manifest deliberately disagrees with the graph"))
    big = encoder("batch", size=224).SerializeToString()
    write("tiny224", big, manifest("tiny224-test-v1", big, True, height=224, width=224,
                                   description="test encoder at CLIP's input size, for benchmarks"))


if __name__ == "__main__":
    main()
