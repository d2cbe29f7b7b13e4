"""Driver for test/export/onnx-checker.test.ts: onnx.checker (full check) and strict shape inference on each model path
read as a JSON list on stdin; prints, per model, its value_info count, the value_infos whose shape disagrees with
ONNX's own inference, and how many nodes carry a doc_string."""
import sys, json, onnx
from onnx import checker, shape_inference
res = []
for path in json.load(sys.stdin):
    m = onnx.load(path)
    try:
        checker.check_model(m, full_check=True)
        inferred = shape_inference.infer_shapes(m, strict_mode=True)
        vi = {v.name: [d.dim_value if d.HasField('dim_value') else d.dim_param for d in v.type.tensor_type.shape.dim] for v in m.graph.value_info}
        iv = {v.name: [d.dim_value if d.HasField('dim_value') else d.dim_param for d in v.type.tensor_type.shape.dim] for v in inferred.graph.value_info}
        mismatch = [n for n in vi if n in iv and vi[n] != iv[n]]
        res.append({"ok": True, "valueInfo": len(vi), "mismatch": mismatch, "docs": sum(1 for n in m.graph.node if n.doc_string)})
    except Exception as e:
        res.append({"ok": False, "error": str(e)[:500]})
print(json.dumps(res))
