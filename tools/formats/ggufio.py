"""ggufio — a minimal GGUF v3 writer and reader in pure Python + numpy.

The byte layout is the one in models/FORMAT.md: header, key/value pairs, tensor infos, zero padding to
`general.alignment`, then the tensor data, each tensor at an offset (from the start of the data section)
that is a multiple of the alignment. GGUF lists dimensions fastest-first (`ne`), the reverse of a numpy
shape: a numpy array of shape (out, in) is written with ne = [in, out].

Writing (what tools/convert/ does):

    from tools.formats.ggufio import GGUFWriter, GGML_TYPE_F32, GGUF_TYPE_STRING
    w = GGUFWriter()
    w.add_string("general.architecture", "bert")
    w.add_u32("bert.block_count", 2)
    w.add_array("tokenizer.ggml.tokens", ["[PAD]", "[UNK]"], GGUF_TYPE_STRING)
    w.add_tensor("token_embd.weight", np.zeros((2, 64), np.float32), GGML_TYPE_F32)
    w.write("model.gguf")

Keys and tensors are written in the order they were added, so the same calls give a byte-identical file.

Reading (what the tests use; enough for round trips, not a validator of every corner):

    from tools.formats.ggufio import read_gguf
    g = read_gguf("model.gguf")
    g.kv["bert.block_count"]            -> 2
    g.kv_types["bert.block_count"]      -> (GGUF_TYPE_UINT32, None)
    g.tensors["token_embd.weight"].ne   -> [64, 2]
    g.tensors["token_embd.weight"].data -> read-only numpy view of shape (2, 64)

Run as a script to print a summary of a file:  /usr/bin/python3 -m tools.formats.ggufio MODEL.gguf
"""

import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
DEFAULT_ALIGNMENT = 32

# Value types of the key/value section.
GGUF_TYPE_UINT8 = 0
GGUF_TYPE_INT8 = 1
GGUF_TYPE_UINT16 = 2
GGUF_TYPE_INT16 = 3
GGUF_TYPE_UINT32 = 4
GGUF_TYPE_INT32 = 5
GGUF_TYPE_FLOAT32 = 6
GGUF_TYPE_BOOL = 7
GGUF_TYPE_STRING = 8
GGUF_TYPE_ARRAY = 9
GGUF_TYPE_UINT64 = 10
GGUF_TYPE_INT64 = 11
GGUF_TYPE_FLOAT64 = 12

# Fixed-size scalar value types: struct format (little-endian).
_SCALAR_FORMATS = {
    GGUF_TYPE_UINT8: "<B",
    GGUF_TYPE_INT8: "<b",
    GGUF_TYPE_UINT16: "<H",
    GGUF_TYPE_INT16: "<h",
    GGUF_TYPE_UINT32: "<I",
    GGUF_TYPE_INT32: "<i",
    GGUF_TYPE_FLOAT32: "<f",
    GGUF_TYPE_BOOL: "<B",
    GGUF_TYPE_UINT64: "<Q",
    GGUF_TYPE_INT64: "<q",
    GGUF_TYPE_FLOAT64: "<d",
}

# Tensor types: id -> (name, block size in elements, bytes per block, numpy dtype or None for raw bytes).
GGML_TYPE_F32 = 0
GGML_TYPE_F16 = 1
GGML_TYPE_Q4_0 = 2
GGML_TYPE_Q8_0 = 8
GGML_TYPE_I8 = 24
GGML_TYPE_I32 = 26
GGML_TYPES = {
    GGML_TYPE_F32: ("F32", 1, 4, np.dtype("<f4")),
    GGML_TYPE_F16: ("F16", 1, 2, np.dtype("<f2")),
    GGML_TYPE_Q4_0: ("Q4_0", 32, 18, None),
    GGML_TYPE_Q8_0: ("Q8_0", 32, 34, None),
    GGML_TYPE_I8: ("I8", 1, 1, np.dtype("i1")),
    GGML_TYPE_I32: ("I32", 1, 4, np.dtype("<i4")),
}


class GGUFError(Exception):
    """A file that cannot be written or read as GGUF; the message names the offending value."""


def _pad_len(n, alignment):
    """Bytes of padding that bring n up to a multiple of alignment."""
    return (alignment - n % alignment) % alignment


def _pack_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


# ------------------------------------------------------------------------------------------------
# Writer
# ------------------------------------------------------------------------------------------------


class GGUFWriter:
    """Collects keys and tensors in memory, then writes one GGUF v3 file."""

    def __init__(self):
        self._kv = []  # [(key, encoded value bytes including the value type)]
        self._keys = set()
        self._tensors = []  # [(name, ne list, ggml type, raw bytes)]
        self._tensor_names = set()
        self.alignment = DEFAULT_ALIGNMENT

    # -- keys --------------------------------------------------------------------------------

    def _add(self, key, value_type, payload):
        if not isinstance(key, str) or not key:
            raise GGUFError("key must be a non-empty string, got %r" % (key,))
        if key in self._keys:
            raise GGUFError("duplicate key %r" % key)
        self._keys.add(key)
        self._kv.append((key, struct.pack("<I", value_type) + payload))

    def _scalar(self, key, value_type, value):
        try:
            payload = struct.pack(_SCALAR_FORMATS[value_type], value)
        except struct.error as e:
            raise GGUFError("key %r: value %r does not fit: %s" % (key, value, e))
        self._add(key, value_type, payload)

    def add_u32(self, key, value):
        if key == "general.alignment":
            if value <= 0 or value & (value - 1):
                raise GGUFError("general.alignment must be a power of two, got %r" % (value,))
            self.alignment = int(value)
        self._scalar(key, GGUF_TYPE_UINT32, int(value))

    def add_i32(self, key, value):
        self._scalar(key, GGUF_TYPE_INT32, int(value))

    def add_f32(self, key, value):
        self._scalar(key, GGUF_TYPE_FLOAT32, float(value))

    def add_bool(self, key, value):
        if not isinstance(value, (bool, np.bool_)):
            raise GGUFError("key %r: bool expected, got %r" % (key, value))
        self._scalar(key, GGUF_TYPE_BOOL, 1 if value else 0)

    def add_string(self, key, value):
        if not isinstance(value, str):
            raise GGUFError("key %r: string expected, got %r" % (key, value))
        self._add(key, GGUF_TYPE_STRING, _pack_string(value))

    def add_array(self, key, values, elem_type):
        """An array of strings (GGUF_TYPE_STRING), i32 (GGUF_TYPE_INT32) or f32 (GGUF_TYPE_FLOAT32)."""
        values = list(values)
        head = struct.pack("<IQ", elem_type, len(values))
        if elem_type == GGUF_TYPE_STRING:
            for v in values:
                if not isinstance(v, str):
                    raise GGUFError("key %r: string array holds %r" % (key, v))
            body = b"".join(_pack_string(v) for v in values)
        elif elem_type == GGUF_TYPE_INT32:
            body = np.asarray(values, dtype=np.int64)
            if body.size and (body.min() < -2**31 or body.max() >= 2**31):
                raise GGUFError("key %r: value out of i32 range" % key)
            body = body.astype("<i4").tobytes()
        elif elem_type == GGUF_TYPE_FLOAT32:
            body = np.asarray(values, dtype="<f4").tobytes()
        else:
            raise GGUFError("key %r: arrays of value type %d are not supported" % (key, elem_type))
        self._add(key, GGUF_TYPE_ARRAY, head + body)

    def add_value(self, key, value_type, value, elem_type=None):
        """Any key as read_gguf gives it back (kv[key], kv_types[key] = (value_type, elem_type)): carries a key
        over unchanged."""
        if value_type == GGUF_TYPE_ARRAY:
            self.add_array(key, value, elem_type)
        elif value_type == GGUF_TYPE_STRING:
            self.add_string(key, value)
        elif value_type == GGUF_TYPE_BOOL:
            self.add_bool(key, bool(value))
        elif value_type == GGUF_TYPE_UINT32:
            self.add_u32(key, value)
        elif value_type in _SCALAR_FORMATS:
            self._scalar(key, value_type, value)
        else:
            raise GGUFError("key %r: value type %r cannot be written" % (key, value_type))

    # -- tensors -----------------------------------------------------------------------------

    def add_tensor(self, name, array, ggml_type):
        """Adds a numpy array as F32 (0) or F16 (1); the data is converted to that type."""
        if name in self._tensor_names:
            raise GGUFError("duplicate tensor %r" % name)
        if ggml_type not in (GGML_TYPE_F32, GGML_TYPE_F16):
            raise GGUFError("tensor %r: only F32 and F16 can be written, got type %r" % (name, ggml_type))
        array = np.asarray(array)
        if not 1 <= array.ndim <= 4 or 0 in array.shape:
            raise GGUFError("tensor %r: shape %s not writable (1..4 non-zero dims)" % (name, array.shape))
        data = np.ascontiguousarray(array, dtype=GGML_TYPES[ggml_type][3]).tobytes()
        self._tensor_names.add(name)
        self._tensors.append((name, list(reversed(array.shape)), ggml_type, data))

    def add_tensor_raw(self, name, ne, ggml_type, data):
        """Adds a tensor of any known type from its bytes as they are stored (ne fastest first): carries a
        tensor over unchanged, whatever its type (I8, Q8_0, ...)."""
        if name in self._tensor_names:
            raise GGUFError("duplicate tensor %r" % name)
        if ggml_type not in GGML_TYPES:
            raise GGUFError("tensor %r: unknown type %r" % (name, ggml_type))
        _, block, block_bytes, _ = GGML_TYPES[ggml_type]
        ne = [int(x) for x in ne]
        if not 1 <= len(ne) <= 4 or 0 in ne or ne[0] % block:
            raise GGUFError("tensor %r: ne %r not writable as %s" % (name, ne, GGML_TYPES[ggml_type][0]))
        data = bytes(data)
        if len(data) != int(np.prod(ne, dtype=np.uint64)) // block * block_bytes:
            raise GGUFError("tensor %r: %d bytes for ne %r of type %s" % (name, len(data), ne, GGML_TYPES[ggml_type][0]))
        self._tensor_names.add(name)
        self._tensors.append((name, ne, ggml_type, data))

    # -- output ------------------------------------------------------------------------------

    def to_bytes(self):
        """The whole file as bytes. Adds general.alignment (32) if no one set it."""
        if "general.alignment" not in self._keys:
            self.add_u32("general.alignment", self.alignment)
        a = self.alignment
        out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(self._tensors), len(self._kv))]
        for key, value in self._kv:
            out.append(_pack_string(key))
            out.append(value)
        offset = 0
        for name, ne, ggml_type, data in self._tensors:
            out.append(_pack_string(name))
            out.append(struct.pack("<I", len(ne)))
            out.append(struct.pack("<%dQ" % len(ne), *ne))
            out.append(struct.pack("<IQ", ggml_type, offset))
            offset += len(data) + _pad_len(len(data), a)
        head = b"".join(out)
        parts = [head, b"\0" * _pad_len(len(head), a)]
        for _, _, _, data in self._tensors:
            parts.append(data)
            parts.append(b"\0" * _pad_len(len(data), a))
        return b"".join(parts)

    def write(self, path):
        data = self.to_bytes()
        with open(path, "wb") as f:
            f.write(data)
        return len(data)


# ------------------------------------------------------------------------------------------------
# Reader
# ------------------------------------------------------------------------------------------------


class GGUFTensor:
    """One tensor of a read file: name, ne (fastest first), ggml type, offset, a numpy view and its raw bytes."""

    def __init__(self, name, ne, ggml_type, offset, data, raw):
        self.name = name
        self.ne = ne
        self.type = ggml_type
        self.offset = offset
        self.data = data  # numpy shape = reversed(ne); raw uint8 bytes for block types
        self.raw = raw    # memoryview of the stored bytes

    def __repr__(self):
        return "GGUFTensor(%r, ne=%r, type=%s)" % (self.name, self.ne, GGML_TYPES[self.type][0])


class GGUFFile:
    """A parsed GGUF file: version, kv (key -> Python value), kv_types (key -> (type, elem type)),
    tensors (name -> GGUFTensor, in file order), alignment and the byte offset of the data section."""

    def __init__(self):
        self.version = None
        self.kv = {}
        self.kv_types = {}
        self.tensors = {}
        self.alignment = DEFAULT_ALIGNMENT
        self.data_offset = None


class _Cursor:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.buf):
            raise GGUFError("truncated: %s needs %d bytes at offset %d, file has %d"
                            % (what, n, self.pos, len(self.buf)))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def string(self, what):
        (n,) = self.unpack("<Q", what + " length")
        try:
            return bytes(self.take(n, what)).decode("utf-8")
        except UnicodeDecodeError as e:
            raise GGUFError("%s is not UTF-8: %s" % (what, e))


def _read_scalar(cur, value_type, key):
    if value_type in _SCALAR_FORMATS:
        (v,) = cur.unpack(_SCALAR_FORMATS[value_type], "value of %r" % key)
        return bool(v) if value_type == GGUF_TYPE_BOOL else v
    if value_type == GGUF_TYPE_STRING:
        return cur.string("string value of %r" % key)
    raise GGUFError("key %r: unsupported value type %d" % (key, value_type))


def _read_value(cur, value_type, key):
    """Returns (value, element type or None); arrays become Python lists (no nesting)."""
    if value_type != GGUF_TYPE_ARRAY:
        return _read_scalar(cur, value_type, key), None
    elem_type, count = cur.unpack("<IQ", "array header of %r" % key)
    if elem_type in _SCALAR_FORMATS and elem_type != GGUF_TYPE_BOOL:
        dt = np.dtype(_SCALAR_FORMATS[elem_type])
        if count > len(cur.buf):
            raise GGUFError("array %r: count %d exceeds the file" % (key, count))
        raw = cur.take(count * dt.itemsize, "array %r" % key)
        return np.frombuffer(raw, dtype=dt).tolist(), elem_type
    if count > len(cur.buf):
        raise GGUFError("array %r: count %d exceeds the file" % (key, count))
    return [_read_scalar(cur, elem_type, key) for _ in range(count)], elem_type


def parse_gguf(buf):
    """Parses GGUF bytes (bytes, bytearray or memoryview) into a GGUFFile with numpy views on buf."""
    buf = memoryview(buf).cast("B")
    cur = _Cursor(buf)
    g = GGUFFile()
    magic = bytes(cur.take(4, "magic"))
    if magic != GGUF_MAGIC:
        raise GGUFError("bad magic %r" % magic)
    (g.version,) = cur.unpack("<I", "version")
    if g.version not in (2, 3):
        raise GGUFError("unsupported GGUF version %d" % g.version)
    n_tensors, n_kv = cur.unpack("<QQ", "counts")
    for _ in range(n_kv):
        key = cur.string("key")
        if key in g.kv:
            raise GGUFError("duplicate key %r" % key)
        (vt,) = cur.unpack("<I", "value type of %r" % key)
        g.kv[key], elem = _read_value(cur, vt, key)
        g.kv_types[key] = (vt, elem)
    if "general.alignment" in g.kv:
        g.alignment = g.kv["general.alignment"]
        if g.alignment <= 0 or g.alignment & (g.alignment - 1):
            raise GGUFError("general.alignment %r is not a power of two" % g.alignment)
    infos = []
    for _ in range(n_tensors):
        name = cur.string("tensor name")
        (n_dims,) = cur.unpack("<I", "n_dims of %r" % name)
        if not 1 <= n_dims <= 4:
            raise GGUFError("tensor %r: n_dims %d outside 1..4" % (name, n_dims))
        ne = list(cur.unpack("<%dQ" % n_dims, "ne of %r" % name))
        ggml_type, offset = cur.unpack("<IQ", "type/offset of %r" % name)
        if ggml_type not in GGML_TYPES:
            raise GGUFError("tensor %r: unknown type %d" % (name, ggml_type))
        if offset % g.alignment:
            raise GGUFError("tensor %r: offset %d not a multiple of %d" % (name, offset, g.alignment))
        infos.append((name, ne, ggml_type, offset))
    g.data_offset = cur.pos + _pad_len(cur.pos, g.alignment)
    for name, ne, ggml_type, offset in infos:
        if name in g.tensors:
            raise GGUFError("duplicate tensor %r" % name)
        _, block, block_bytes, dtype = GGML_TYPES[ggml_type]
        if 0 in ne or ne[0] % block:
            raise GGUFError("tensor %r: ne %r invalid for its type" % (name, ne))
        n = int(np.prod(ne, dtype=np.uint64))
        nbytes = n // block * block_bytes
        start = g.data_offset + offset
        if start + nbytes > len(buf):
            raise GGUFError("tensor %r runs past the end of the file" % name)
        shape = tuple(reversed(ne))
        if dtype is None:
            data = np.frombuffer(buf, np.uint8, nbytes, start).reshape(shape[:-1] + (-1,))
        else:
            data = np.frombuffer(buf, dtype, n, start).reshape(shape)
        g.tensors[name] = GGUFTensor(name, ne, ggml_type, offset, data, buf[start:start + nbytes])
    return g


def read_gguf(path):
    """Reads a whole GGUF file; see parse_gguf."""
    with open(path, "rb") as f:
        return parse_gguf(f.read())


def _main(argv):
    if len(argv) != 2:
        print("usage: ggufio.py MODEL.gguf", file=sys.stderr)
        return 2
    g = read_gguf(argv[1])
    print("GGUF v%d, %d keys, %d tensors, alignment %d, data at %d"
          % (g.version, len(g.kv), len(g.tensors), g.alignment, g.data_offset))
    for key, value in g.kv.items():
        if isinstance(value, list) and len(value) > 8:
            value = "[%s, ... %d items]" % (", ".join(repr(v) for v in value[:8]), len(value))
        print("  %-45s %s" % (key, value))
    for t in g.tensors.values():
        print("  %-40s %-5s ne=%s" % (t.name, GGML_TYPES[t.type][0], t.ne))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
