"""Driver for test/export/onnx-checker.test.ts: onnx.checker and strict shape inference on each model path read as
a JSON list on stdin; prints, per model, its value_info count, the value_infos whose shape disagrees with ONNX's own
inference, and how many nodes carry a doc_string."""
import json
import sys

import onnx
from onnx import checker, shape_inference


def dims(v):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]


res = []
for path in json.load(sys.stdin):
    m = onnx.load(path)
    try:
        checker.check_model(m)
        # Shape inference needs the initializers' dims, not their values: without the values the
        # full check of a 550 MB VGG-16 takes a fraction of a second rather than a copy of it.
        for t in m.graph.initializer:
            if t.raw_data and len(t.raw_data) > 1024:
                t.ClearField("raw_data")
        declared = {v.name: dims(v) for v in m.graph.value_info}
        stripped = onnx.ModelProto()
        stripped.CopyFrom(m)
        del stripped.graph.value_info[:]
        inferred = shape_inference.infer_shapes(stripped, check_type=True, strict_mode=True)
        found = {v.name: dims(v) for v in inferred.graph.value_info}
        # A symbolic or unknown dimension (the batch N, or what a Reshape to -1 leaves) matches anything.
        def same(a, b):
            return len(a) == len(b) and all(x == y or not isinstance(x, int) or not isinstance(y, int) or x == 0 or y == 0 for x, y in zip(a, b))
        mismatch = [n for n in declared if n in found and not same(declared[n], found[n])]
        missing = [n for n in found if n not in declared]
        res.append({"ok": True, "valueInfo": len(declared), "mismatch": mismatch, "missing": missing, "docs": sum(1 for n in m.graph.node if n.doc_string)})
    except Exception as e:
        res.append({"ok": False, "error": str(e)[:500]})
print(json.dumps(res))
