"""The int8 core as a file of its own, cut out of the end-to-end TFLite file.

Converting the Keras core on its own calibrates its int8 scales a second time, and two
calibrations never agree bit for bit. A client that preprocesses from the sidecar and
feeds the core must get exactly what the end-to-end file computes, so the core file is
the end-to-end graph's own int8 part: from the int8 vector that enters the core to the
int8 probabilities before the final DEQUANTIZE, with the same operators,
weights and scales. The TFLite schema's object API (what TensorFlow's
`flatbuffer_utils` reads and writes) copies them; nothing is re-quantized.
"""

from __future__ import annotations

import copy

from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

CORE_INPUT = "encoded"
CORE_OUTPUT = "probabilities"


def cut_core(content: bytes, signature: str, width: int) -> bytes:
    """The int8 core of an end-to-end file: the `width`-wide int8 vector in, int8
    probabilities out."""
    model = flatbuffer_utils.convert_bytearray_to_object(content)
    graph = model.subgraphs[_subgraph_of(model, signature)]
    entry, exit_ = _boundary(model, graph)
    _set_width(graph, entry, width)
    kept = _operators_between(graph, model.buffers, entry, exit_)
    core = _standalone(model, graph, kept, entry, exit_, signature)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(core))


def _subgraph_of(model, signature: str) -> int:
    for definition in model.signatureDefs or []:
        if _text(definition.signatureKey) == signature:
            return definition.subgraphIndex
    raise ValueError(f"the end-to-end file has no signature {signature!r}")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _opcode(model, op) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _boundary(model, graph) -> tuple[int, int]:
    """(entry, exit): the core's int8 input vector and the final DEQUANTIZE's input.

    The exit is the one DEQUANTIZE writing a graph output. The entry is where every
    feature's preprocessing has joined: the earliest int8 tensor that every path from
    the graph's inputs to the exit passes through. Before it the features run side by
    side, so no earlier tensor carries all of them; however the converter quantized the
    parts (a QUANTIZE each into one CONCATENATION, or the vector whole), this is the
    vector the core's first operators read."""
    dequantize = [op for op in graph.operators
                  if _opcode(model, op) == schema.BuiltinOperator.DEQUANTIZE
                  and op.outputs[0] in list(graph.outputs)]
    if len(dequantize) != 1:
        raise ValueError(f"expected one DEQUANTIZE out of the core, found {len(dequantize)}")
    exit_ = dequantize[0].inputs[0]
    producer = {out: index for index, op in enumerate(graph.operators) for out in op.outputs}
    candidates = sorted((t for t in _upstream(graph, producer, exit_, skip=None)
                         if graph.tensors[t].type == schema.TensorType.INT8 and t in producer),
                        key=producer.get)
    inputs = set(graph.inputs)
    for tensor in candidates:
        if not inputs & _upstream(graph, producer, exit_, skip=tensor):
            return tensor, exit_
    raise ValueError("no int8 tensor joins every input on its way to the core")


def _upstream(graph, producer: dict, start: int, skip) -> set:
    """Tensors that `start` is computed from (itself included), not walking past `skip`."""
    seen, pending = set(), [start]
    while pending:
        tensor = pending.pop()
        if tensor < 0 or tensor in seen or tensor == skip:
            continue
        seen.add(tensor)
        if tensor in producer:
            pending.extend(graph.operators[producer[tensor]].inputs)
    return seen


def _set_width(graph, entry: int, width: int) -> None:
    """The converter leaves the vector's width dynamic (a hash table lookup's output has
    no static shape); the core file's input states it, as a client reads it from there."""
    tensor = graph.tensors[entry]
    tensor.shape, tensor.shapeSignature = [1, width], [-1, width]


def _is_constant(tensor, buffers) -> bool:
    data = buffers[tensor.buffer].data if tensor.buffer else None
    return data is not None and len(data) > 0


def _operators_between(graph, buffers, entry: int, exit_: int) -> list[int]:
    """Indices of the operators that compute `exit_` from `entry` and constants alone."""
    producer = {out: index for index, op in enumerate(graph.operators) for out in op.outputs}
    kept, pending, seen = set(), [exit_], set()
    while pending:
        tensor = pending.pop()
        if tensor in seen or tensor == entry or tensor < 0:
            continue
        seen.add(tensor)
        if _is_constant(graph.tensors[tensor], buffers):
            continue
        if tensor not in producer:
            name = _text(graph.tensors[tensor].name)
            raise ValueError(f"the core reads {name!r}, which is not its int8 input")
        kept.add(producer[tensor])
        pending.extend(graph.operators[producer[tensor]].inputs)
    return sorted(kept)


def _standalone(model, graph, kept: list[int], entry: int, exit_: int, signature: str):
    """A one-subgraph model of the kept operators, with only the tensors, buffers and
    operator codes they use (renumbered; buffer 0 stays the empty one, as the schema asks)."""
    operators = [copy.deepcopy(graph.operators[i]) for i in kept]
    used = sorted({t for op in operators for t in list(op.inputs) + list(op.outputs) if t >= 0})
    tensor_ids = {old: new for new, old in enumerate(used)}
    buffers, tensors = [schema.BufferT()], []
    for old in used:
        tensor = copy.deepcopy(graph.tensors[old])
        if _is_constant(tensor, model.buffers):
            buffers.append(copy.deepcopy(model.buffers[tensor.buffer]))
            tensor.buffer = len(buffers) - 1
        else:
            tensor.buffer = 0
        tensors.append(tensor)
    codes, code_ids = [], {}
    for op in operators:
        if op.opcodeIndex not in code_ids:
            code_ids[op.opcodeIndex] = len(codes)
            codes.append(copy.deepcopy(model.operatorCodes[op.opcodeIndex]))
        op.opcodeIndex = code_ids[op.opcodeIndex]
        op.inputs = [tensor_ids[t] if t >= 0 else t for t in op.inputs]
        op.outputs = [tensor_ids[t] for t in op.outputs]
    core = schema.ModelT()
    core.version, core.description = model.version, model.description
    core.operatorCodes, core.buffers = codes, buffers
    subgraph = schema.SubGraphT()
    subgraph.tensors, subgraph.operators = tensors, operators
    subgraph.inputs, subgraph.outputs = [tensor_ids[entry]], [tensor_ids[exit_]]
    subgraph.name = graph.name
    core.subgraphs = [subgraph]
    core.signatureDefs = [_signature(signature, tensor_ids[entry], tensor_ids[exit_])]
    core.metadata = []
    return core


def _signature(key: str, entry: int, exit_: int):
    definition = schema.SignatureDefT()
    definition.signatureKey, definition.subgraphIndex = key, 0
    definition.inputs = [_tensor_map(CORE_INPUT, entry)]
    definition.outputs = [_tensor_map(CORE_OUTPUT, exit_)]
    return definition


def _tensor_map(name: str, index: int):
    entry = schema.TensorMapT()
    entry.name, entry.tensorIndex = name, index
    return entry
