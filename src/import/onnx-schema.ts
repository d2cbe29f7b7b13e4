/**
 * The ONNX messages the importer reads, as a protobufjs schema (field numbers from onnx/onnx.proto,
 * proto2): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto,
 * TypeProto, TensorShapeProto, OperatorSetIdProto, StringStringEntryProto. protobufjs decodes with
 * it; fields left out here (training info, functions, sub-graphs, sparse values) are skipped by the
 * wire format's rules, and their presence is detected through the fields that are listed.
 */
import type { INamespace } from 'protobufjs/light';

const opt = (type: string, id: number) => ({ type, id });
const rep = (type: string, id: number) => ({ type, id, rule: 'repeated' });

export const ONNX_SCHEMA: INamespace = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: opt('string', 1), value: opt('string', 2) } },
        OperatorSetIdProto: { fields: { domain: opt('string', 1), version: opt('int64', 2) } },
        TensorShapeProto: {
          fields: { dim: rep('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: opt('int64', 1), dimParam: opt('string', 2), denotation: opt('string', 3) },
            },
          },
        },
        TypeProto: {
          fields: { tensorType: opt('Tensor', 1), sequenceType: opt('bytes', 4), mapType: opt('bytes', 5), sparseTensorType: opt('bytes', 8), optionalType: opt('bytes', 9) },
          nested: { Tensor: { fields: { elemType: opt('int32', 1), shape: opt('TensorShapeProto', 2) } } },
        },
        ValueInfoProto: { fields: { name: opt('string', 1), type: opt('TypeProto', 2), docString: opt('string', 3) } },
        TensorProto: {
          fields: {
            dims: rep('int64', 1),
            dataType: opt('int32', 2),
            segment: opt('bytes', 3),
            floatData: rep('float', 4),
            int32Data: rep('int32', 5),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7),
            name: opt('string', 8),
            rawData: opt('bytes', 9),
            doubleData: rep('double', 10),
            uint64Data: rep('uint64', 11),
            docString: opt('string', 12),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: opt('int32', 14),
          },
        },
        AttributeProto: {
          fields: {
            name: opt('string', 1),
            f: opt('float', 2),
            i: opt('int64', 3),
            s: opt('bytes', 4),
            t: opt('TensorProto', 5),
            // Sub-graphs (Loop, If, Scan) are kept as bytes: the importer refuses those operators by name.
            g: opt('bytes', 6),
            floats: rep('float', 7),
            ints: rep('int64', 8),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('bytes', 11),
            refAttrName: opt('string', 21),
            type: opt('int32', 20),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: opt('string', 3),
            opType: opt('string', 4),
            attribute: rep('AttributeProto', 5),
            docString: opt('string', 6),
            domain: opt('string', 7),
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: opt('string', 2),
            initializer: rep('TensorProto', 5),
            docString: opt('string', 10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
            sparseInitializer: rep('bytes', 15),
          },
        },
        ModelProto: {
          fields: {
            irVersion: opt('int64', 1),
            producerName: opt('string', 2),
            producerVersion: opt('string', 3),
            domain: opt('string', 4),
            modelVersion: opt('int64', 5),
            docString: opt('string', 6),
            graph: opt('GraphProto', 7),
            opsetImport: rep('OperatorSetIdProto', 8),
            metadataProps: rep('StringStringEntryProto', 14),
            functions: rep('bytes', 25),
          },
        },
      },
    },
  },
};
