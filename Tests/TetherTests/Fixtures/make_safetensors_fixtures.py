"""Writes the safetensors fixtures with the reference `safetensors` library (0.8.0) and numpy.

Run from this folder:  python3 make_safetensors_fixtures.py
The tests do not need Python; they read the committed .safetensors files.

reference_f32.safetensors   F32 tensors of rank 0..4 plus empty ones and one metadata key
                            (the reference writer orders metadata keys by hash, so only one
                            key keeps its bytes reproducible). SafeTensorsTests writes the same
                            tensors with Tether and compares the files byte for byte.
reference_dtypes.safetensors F16, BF16, F64, F8_E4M3, F8_E5M2 and integer/bool tensors whose
                            Float32 values the tests know exactly.
"""
import numpy as np
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import save_file

f32 = np.float32
special = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 0.0, 3.4028235e38], dtype=f32)
special.view(np.uint32)[7] = 1  # the smallest subnormal, 2^-149
save_file(
    {
        "scalar": np.array(3.5, dtype=f32),
        "vector": special,
        "matrix": (np.arange(6, dtype=f32) * 0.25 - 1).reshape(2, 3),
        "rank3": (np.arange(8, dtype=f32) - 4).reshape(2, 2, 2),
        "rank4": (np.arange(12, dtype=f32) * 0.5).reshape(1, 2, 3, 2),
        "empty": np.zeros((0,), dtype=f32),
        "empty2d": np.zeros((3, 0), dtype=f32),
        "layers.0.attn.weight": np.array([[1, 2], [3, 4]], dtype=f32),
    },
    "reference_f32.safetensors",
    metadata={"note": 'quote " backslash \\ slash / newline \n tab \t \u00e9 \u2211 \u0001'},
)

raw = {}  # name -> (dtype string for TensorSpec, shape, numpy array holding the bytes)
raw["f16"] = ("float16", [2, 5], np.array(
    [1, -2, 65504, 2.0**-24, 1023 * 2.0**-24, 2.0**-14, 0.333251953125, np.inf, -0.0, np.nan],
    dtype=np.float16))
raw["bf16"] = ("bfloat16", [8], np.array(
    [0x3F80, 0xC000, 0x4049, 0x7F80, 0x0001, 0xFF80, 0x8000, 0x3EAB], dtype=np.uint16))
raw["f64"] = ("float64", [3], np.array([0.1, -1e300, 1 / 3], dtype=np.float64))
raw["f8_e4m3"] = ("float8_e4m3fn", [6], np.array([0x38, 0x7E, 0x01, 0xB8, 0x7F, 0x08], dtype=np.uint8))
raw["f8_e5m2"] = ("float8_e5m2", [5], np.array([0x3C, 0x7B, 0x7C, 0x01, 0xC0], dtype=np.uint8))
raw["i64"] = ("int64", [4], np.array([0, -1, 2**40, 7], dtype=np.int64))
raw["i32"] = ("int32", [2, 2], np.array([1, 2, 3, -4], dtype=np.int32))
raw["i16"] = ("int16", [2], np.array([-32768, 32767], dtype=np.int16))
raw["u8"] = ("uint8", [2], np.array([0, 255], dtype=np.uint8))
raw["i8"] = ("int8", [2], np.array([-128, 127], dtype=np.int8))
raw["bool"] = ("bool", [3], np.array([True, False, True], dtype=np.bool_))
specs = {
    name: TensorSpec(dtype=dtype, shape=shape, data_ptr=arr.ctypes.data, data_len=arr.nbytes)
    for name, (dtype, shape, arr) in raw.items()
}
serialize_file(specs, "reference_dtypes.safetensors", metadata={"format": "pt"})
