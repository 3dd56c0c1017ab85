"""safetensors_np — read and write .safetensors files with numpy only.

A .safetensors file is: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON mapping each tensor
name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the byte after the header,
plus an optional "__metadata__" object of strings), then the raw little-endian tensor data.

    from tools.formats.safetensors_np import load_file, load_checkpoint, save_file
    tensors = load_file("model.safetensors")            # {name: numpy array}
    tensors = load_checkpoint("HF_DIR")                 # model.safetensors or the sharded index
    save_file({"w": np.zeros((2, 3), np.float32)}, "out.safetensors", metadata={"format": "pt"})

Read dtypes: F32, F16, BF16 (returned as float32: bfloat16 is the top half of a float32), F64, I64,
I32, I16, I8, U8, BOOL. Written dtypes: F32, F16, F64, I64, I32, I16, I8, U8, BOOL. Arrays returned by
load_file are read-only views on the file's bytes (BF16 ones are fresh float32 copies).

Run as a script to list a file:  /usr/bin/python3 -m tools.formats.safetensors_np FILE.safetensors
"""

import json
import os
import struct
import sys

import numpy as np

# safetensors dtype name -> numpy dtype (BF16 is handled separately).
_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {dt: name for name, dt in _DTYPES.items()}

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"


class SafetensorsError(Exception):
    """A file that is not valid safetensors, or a tensor that cannot be written."""


def _parse(buf, path):
    if len(buf) < 8:
        raise SafetensorsError("%s: too short for a safetensors header" % path)
    (n,) = struct.unpack_from("<Q", buf, 0)
    if n > len(buf) - 8:
        raise SafetensorsError("%s: header length %d runs past the end of the file" % (path, n))
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError("%s: header is not JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise SafetensorsError("%s: header is not a JSON object" % path)
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype_name, shape = info["dtype"], [int(d) for d in info["shape"]]
            begin, end = (int(x) for x in info["data_offsets"])
        except (TypeError, KeyError, ValueError):
            raise SafetensorsError("%s: bad header entry for %r" % (path, name))
        count = int(np.prod(shape, dtype=np.int64))
        if dtype_name == "BF16":
            itemsize = 2
        elif dtype_name in _DTYPES:
            itemsize = _DTYPES[dtype_name].itemsize
        else:
            raise SafetensorsError("%s: tensor %r has unsupported dtype %s" % (path, name, dtype_name))
        if min(shape, default=0) < 0 or end - begin != count * itemsize or begin < 0 or base + end > len(buf):
            raise SafetensorsError("%s: tensor %r: offsets %d..%d do not match shape %s %s or the file size"
                                   % (path, name, begin, end, shape, dtype_name))
        if dtype_name == "BF16":
            bits = np.frombuffer(buf, "<u2", count, base + begin).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(buf, _DTYPES[dtype_name], count, base + begin)
        out[name] = arr.reshape(shape)
    return out


def load_file(path):
    """Reads one .safetensors file into {name: numpy array}, in header order."""
    with open(path, "rb") as f:
        buf = f.read()
    return _parse(buf, path)


def load_metadata(path):
    """The "__metadata__" object of a file ({} when absent)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header.get("__metadata__", {})


def checkpoint_files(folder):
    """The weight files of a Hugging Face folder: ("model.safetensors", [path]) or, for a sharded
    checkpoint, ("model.safetensors.index.json", [shard paths, sorted]); None when neither exists."""
    single = os.path.join(folder, SINGLE_NAME)
    if os.path.isfile(single):
        return SINGLE_NAME, [single]
    index = os.path.join(folder, INDEX_NAME)
    if os.path.isfile(index):
        weight_map = _read_index(index)
        return INDEX_NAME, [os.path.join(folder, f) for f in sorted(set(weight_map.values()))]
    return None


def _read_index(index):
    try:
        with open(index, "r", encoding="utf-8") as f:
            weight_map = json.load(f)["weight_map"]
    except (ValueError, KeyError, TypeError) as e:
        raise SafetensorsError("%s: not a valid index (%s)" % (index, e))
    if not isinstance(weight_map, dict):
        raise SafetensorsError("%s: weight_map is not an object" % index)
    for name, fname in weight_map.items():
        if not isinstance(fname, str) or os.path.basename(fname) != fname:
            raise SafetensorsError("%s: bad shard file name %r for %r" % (index, fname, name))
    return weight_map


def load_checkpoint(folder):
    """All tensors of a folder's model.safetensors, or of the shards listed by
    model.safetensors.index.json (each tensor must be in the shard the index names)."""
    found = checkpoint_files(folder)
    if found is None:
        raise SafetensorsError("%s: no %s or %s" % (folder, SINGLE_NAME, INDEX_NAME))
    kind, paths = found
    if kind == SINGLE_NAME:
        return load_file(paths[0])
    weight_map = _read_index(os.path.join(folder, INDEX_NAME))
    out = {}
    for path in paths:
        shard = load_file(path)
        fname = os.path.basename(path)
        for name, arr in shard.items():
            if weight_map.get(name) != fname:
                raise SafetensorsError("%s: tensor %r is not listed for this shard in %s"
                                       % (path, name, INDEX_NAME))
            out[name] = arr
    missing = sorted(set(weight_map) - set(out))
    if missing:
        raise SafetensorsError("%s lists tensors no shard holds: %s" % (INDEX_NAME, ", ".join(missing[:10])))
    return out


def save_file(tensors, path, metadata=None):
    """Writes {name: numpy array} to path. Deterministic: tensors are laid out by decreasing element
    size, then by name (so every tensor stays aligned to its element size); the header is padded with
    spaces to a multiple of 8 bytes."""
    items = []
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        key = arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype
        if key not in _NAMES:
            raise SafetensorsError("tensor %r: dtype %s cannot be written" % (name, arr.dtype))
        items.append((name, _NAMES[key], np.ascontiguousarray(arr, dtype=key)))
    items.sort(key=lambda t: (-t[2].dtype.itemsize, t[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, dtype_name, arr in items:
        header[name] = {"dtype": dtype_name, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for _, _, arr in items:
            f.write(arr.tobytes())


def _main(argv):
    if len(argv) != 2:
        print("usage: safetensors_np.py FILE.safetensors", file=sys.stderr)
        return 2
    for name, arr in load_file(argv[1]).items():
        print("%-60s %-8s %s" % (name, arr.dtype, list(arr.shape)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
