"""Writes an ONNX model with a Loop (onnx.helper; onnx.checker passes) to the path given."""
import sys

import onnx
from onnx import TensorProto, helper

body = helper.make_graph(
    [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Relu", ["x_in"], ["x_out"])],
    "body",
    [
        helper.make_tensor_value_info("i", TensorProto.INT64, []),
        helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
        helper.make_tensor_value_info("x_in", TensorProto.FLOAT, None),
    ],
    [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), helper.make_tensor_value_info("x_out", TensorProto.FLOAT, None)],
)
graph = helper.make_graph(
    [
        helper.make_node("Relu", ["input"], ["r"], name="/relu/Relu"),
        helper.make_node("Loop", ["trips", "cond", "r"], ["output"], name="/repeat/Loop", body=body),
    ],
    "looped",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 8, 8])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, 8, 8])],
    [helper.make_tensor("trips", TensorProto.INT64, [], [3]), helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
