"""Minimal safetensors reader/writer in plain NumPy (no torch, no `safetensors` package).

The format: 8-byte little-endian header length, a JSON header mapping every tensor name to
{dtype, shape, data_offsets} plus an optional `__metadata__` map of strings, then the raw
little-endian tensor bytes. The writer lays tensors out the way the `safetensors` library
does (largest alignment first, then by name; F32 before I32) and pads the header with spaces
to a multiple of 8 bytes.
"""

from __future__ import annotations

import json
import struct
from typing import Mapping

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"),
           "F16": np.dtype("<f2")}
_NAMES = {np.dtype("float32"): "F32", np.dtype("int32"): "I32"}
# The safetensors library orders tensors by dtype rank (descending), then by name.
_RANK = {"I32": 9, "F32": 11}


def read(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """All tensors (copied into native arrays) and the `__metadata__` map."""
    with open(path, "rb") as handle:
        raw = handle.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = memoryview(raw)[8 + length:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = array.astype(dtype.newbyteorder("="))
    return tensors, metadata


def write(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> int:
    """Writes F32/I32 tensors and a string metadata map; returns the file size in bytes."""
    entries = []
    for name, array in tensors.items():
        array = np.asarray(array)
        if array.dtype not in _NAMES:
            raise TypeError(f"{name}: dtype {array.dtype} (only float32 and int32 are written)")
        entries.append((name, _NAMES[array.dtype], np.ascontiguousarray(array)))
    entries.sort(key=lambda e: (-_RANK[e[1]], e[0]))
    header: dict[str, object] = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, dtype, array in entries:
        blob = array.astype(_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)))
        handle.write(text)
        for blob in blobs:
            handle.write(blob)
    return 8 + len(text) + offset
