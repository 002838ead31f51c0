"""Convert the pre-trained musicnn models (MSD_musicnn, MTT_musicnn) to safetensors for genre.

The weights ship inside the `musicnn` 0.1.0 wheel on PyPI (ISC licence, Music Technology Group,
Universitat Pompeu Fabra) as TensorFlow 1 checkpoints (`.index` + `.data-00000-of-00001`). This
script reads them with TensorFlow's checkpoint reader and writes one safetensors file per model,
named and laid out exactly as genre's burn module `genre_model::musicnn::Musicnn` stores itself,
so the Rust side loads them with burn's own (shape-checked) loader:

  TF name                      -> genre name                      layout change
  batch_normalization          -> frontend.input_bn               moving_mean/variance -> running_mean/var
  conv2d, conv2d_1 (+bn_1, _2) -> frontend.timbral.{0,1}.conv/.bn  kernel [t, mel, in, out] -> [out, in, t, mel]
  conv2d_2..4 (+bn_3..5)       -> frontend.temporal.{0,1,2}.conv/.bn  (same)
  conv2d_5..7 (+bn_6..8)       -> backend.midend.{0,1,2}.conv/.bn  kernel [t, C, 1, out] -> [out, C, t] (conv1d)
  batch_normalization_9        -> backend.pool_bn                 (the 1506 pooled features)
  dense (+bn_10)               -> backend.dense, backend.dense_bn kernel [in, out] (burn's Linear layout too)
  dense_1                      -> tags

Only the inference variables are kept (no Adam slots). Usage (throwaway venv, dev time only):
  python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu safetensors numpy
  pip download --no-deps -d /tmp/mn musicnn==0.1.0 && unzip -q /tmp/mn/musicnn-0.1.0-py3-none-any.whl -d /tmp/mn/x
  /tmp/tfenv/bin/python models/musicnn/convert.py /tmp/mn/x/musicnn models/musicnn
"""
import os
import sys

import numpy as np
import tensorflow as tf
from safetensors.numpy import save_file


def bn(reader, tf_name, name):
    return {
        f"{name}.gamma": reader.get_tensor(f"{tf_name}/gamma"),
        f"{name}.beta": reader.get_tensor(f"{tf_name}/beta"),
        f"{name}.running_mean": reader.get_tensor(f"{tf_name}/moving_mean"),
        f"{name}.running_var": reader.get_tensor(f"{tf_name}/moving_variance"),
    }


def conv2d(reader, tf_name, name):
    k = reader.get_tensor(f"{tf_name}/kernel")  # [time, mel, in, out]
    return {f"{name}.weight": np.transpose(k, (3, 2, 0, 1)), f"{name}.bias": reader.get_tensor(f"{tf_name}/bias")}


def conv1d(reader, tf_name, name):
    k = reader.get_tensor(f"{tf_name}/kernel")  # [time, channels, 1, out]
    return {f"{name}.weight": np.transpose(k[:, :, 0, :], (2, 1, 0)), f"{name}.bias": reader.get_tensor(f"{tf_name}/bias")}


def dense(reader, tf_name, name):
    return {f"{name}.weight": reader.get_tensor(f"{tf_name}/kernel"), f"{name}.bias": reader.get_tensor(f"{tf_name}/bias")}


def convert(model_dir):
    r = tf.compat.v1.train.NewCheckpointReader(model_dir + "/")
    t = bn(r, "batch_normalization", "frontend.input_bn")
    for i in range(2):
        t |= conv2d(r, f"conv2d_{i}" if i else "conv2d", f"frontend.timbral.{i}.conv") | bn(r, f"batch_normalization_{i + 1}", f"frontend.timbral.{i}.bn")
    for i in range(3):
        t |= conv2d(r, f"conv2d_{i + 2}", f"frontend.temporal.{i}.conv") | bn(r, f"batch_normalization_{i + 3}", f"frontend.temporal.{i}.bn")
    for i in range(3):
        t |= conv1d(r, f"conv2d_{i + 5}", f"backend.midend.{i}.conv") | bn(r, f"batch_normalization_{i + 6}", f"backend.midend.{i}.bn")
    t |= bn(r, "batch_normalization_9", "backend.pool_bn")
    t |= dense(r, "dense", "backend.dense") | bn(r, "batch_normalization_10", "backend.dense_bn")
    t |= dense(r, "dense_1", "tags")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}


def main():
    pkg, out = sys.argv[1], sys.argv[2]
    for model, file in (("MSD_musicnn", "msd.safetensors"), ("MTT_musicnn", "mtt.safetensors")):
        tensors = convert(os.path.join(pkg, model))
        n = sum(v.size for v in tensors.values())
        meta = {"source": f"musicnn 0.1.0 wheel, {model}", "licence": "ISC (Music Technology Group, UPF)",
                "parameters": str(n)}
        save_file(tensors, os.path.join(out, file), metadata=meta)
        print(f"{model}: {len(tensors)} tensors, {n} values -> {file}")


if __name__ == "__main__":
    main()
