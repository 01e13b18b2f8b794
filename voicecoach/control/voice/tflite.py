"""pymicro-wakeword's model, loaded with every result of the TensorFlow Lite C API checked (the listen extra).

The package passes what ``TfLiteModelCreateFromFile`` returns straight to
``TfLiteInterpreterCreate``: for a file TFLite rejects (empty, random bytes,
a folder) that is NULL, and the process dies of SIGSEGV. Here a NULL, a
failed allocation, or tensors that are not a microWakeWord model's raise
ValueError instead. Imported only when voice control starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymicro_wakeword import MicroWakeWord

#: The 10 ms feature windows the audio front end makes have 40 values.
FEATURES = 40
#: TfLiteType -> numpy dtype of a quantized tensor: 3 kTfLiteUInt8, 9 kTfLiteInt8.
_TYPES = {3: np.uint8, 9: np.int8}


def library() -> Path | None:
    """The TensorFlow Lite C library the package ships (where ``from_config`` finds it)."""
    import pymicro_wakeword

    return next(iter((Path(pymicro_wakeword.__file__).parent / "lib").glob("*tensorflowlite_c.*")), None)


class CheckedModel(MicroWakeWord):
    """A :class:`MicroWakeWord` whose loading raises ValueError where the package's would crash."""

    def _load_model(self) -> None:
        lib = self.lib
        self.model = lib.TfLiteModelCreateFromFile(self.model_path)
        if not self.model:
            raise ValueError("TensorFlow Lite cannot read it")
        self.interpreter = lib.TfLiteInterpreterCreate(self.model, None)
        if not self.interpreter:
            raise ValueError("TensorFlow Lite cannot run it")
        if lib.TfLiteInterpreterAllocateTensors(self.interpreter) != 0:
            raise ValueError("TensorFlow Lite cannot prepare it")
        # The package's errcheck turns a NULL tensor into RuntimeError.
        self.input_tensor = lib.TfLiteInterpreterGetInputTensor(self.interpreter, 0)
        self.output_tensor = lib.TfLiteInterpreterGetOutputTensor(self.interpreter, 0)
        types = (lib.TfLiteTensorType(self.input_tensor), lib.TfLiteTensorType(self.output_tensor))
        if not all(t in _TYPES for t in types):
            raise ValueError("it is not a quantized microWakeWord model")
        self.input_dtype, self.output_dtype = _TYPES[types[0]], _TYPES[types[1]]
        dims = [lib.TfLiteTensorDim(self.input_tensor, i) for i in range(lib.TfLiteTensorNumDims(self.input_tensor))]
        # [1, stride, 40] in (the features of `stride` windows), one probability out
        if len(dims) != 3 or dims[0] != 1 or not 1 <= dims[1] <= 100 or dims[2] != FEATURES:
            raise ValueError(f"its input has the shape {dims}, not [1, stride, {FEATURES}]")
        if lib.TfLiteTensorByteSize(self.output_tensor) != 1:
            raise ValueError("its output is not one probability")
        self.stride = dims[1]
        input_q = lib.TfLiteTensorQuantizationParams(self.input_tensor)
        output_q = lib.TfLiteTensorQuantizationParams(self.output_tensor)
        if not (input_q.scale > 0 and output_q.scale > 0):  # NaN fails too
            raise ValueError("its quantization scale is not positive")
        self.input_scale, self.input_zero_point = input_q.scale, input_q.zero_point
        self.output_scale, self.output_zero_point = output_q.scale, output_q.zero_point
