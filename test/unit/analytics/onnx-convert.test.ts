/**
 * Each TF op the TFJS → ONNX converter maps, one graph per case: the graph runs on tfjs (wasm, the
 * reference) and, converted, on onnxruntime; the outputs must agree. Small tensors: well under a
 * second of CPU in all.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import { initWasmBackend } from '../../../src/analytics/detector/centernet.js';
import { convertTfjsGraph, SUPPORTED_OPS } from '../../../src/analytics/detector/onnx/convert.js';
import {
  halfToFloat,
  readTfjsGraph,
  type TfAttr,
  type TfjsModelJson,
  type TfNode,
} from '../../../src/analytics/detector/onnx/tfjs-graph.js';

interface Const {
  dtype: 'float32' | 'int32';
  shape: number[];
  values: number[];
}

interface OpCase {
  /** TF ops this case covers (besides Placeholder and Const). */
  ops: string[];
  what: string;
  nodes: TfNode[];
  consts?: Record<string, Const>;
  outputs: string[];
  inputShape?: number[];
}

const X_SHAPE = [1, 7, 9, 4];
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const list = (...values: number[]): TfAttr => ({ list: { i: values.map(String) } });
const pad = (mode: 'SAME' | 'VALID'): TfAttr => ({ s: b64(mode) });
const fused = (...ops: string[]): TfAttr => ({ list: { s: ops.map(b64) } });
const flag = (b: boolean): TfAttr => ({ b });
const int = (i: number): TfAttr => ({ i: String(i) });

/** Deterministic pseudo-random values in [-1, 1) (no Math.random: failures must reproduce). */
function values(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return (state / 2 ** 31) * 2 - 1;
  });
}

function floats(shape: number[], seed: number): Const {
  return {
    dtype: 'float32',
    shape,
    values: values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
  };
}
const ints = (...v: number[]): Const => ({ dtype: 'int32', shape: [v.length], values: v });
const scalarInt = (v: number): Const => ({ dtype: 'int32', shape: [], values: [v] });

const node = (name: string, op: string, input: string[], attr: Record<string, TfAttr> = {}): TfNode => ({
  name,
  op,
  input,
  attr,
});

const CASES: OpCase[] = [
  {
    ops: ['Conv2D'],
    what: 'Conv2D 3×3 SAME, stride 1',
    nodes: [node('y', 'Conv2D', ['x', 'w'], { strides: list(1, 1, 1, 1), padding: pad('SAME') })],
    consts: { w: floats([3, 3, 4, 5], 1) },
    outputs: ['y'],
  },
  {
    ops: ['Conv2D'],
    what: 'Conv2D 3×3 SAME, stride 2 on odd sizes (padding after)',
    nodes: [node('y', 'Conv2D', ['x', 'w'], { strides: list(1, 2, 2, 1), padding: pad('SAME') })],
    consts: { w: floats([3, 3, 4, 6], 2) },
    outputs: ['y'],
  },
  {
    ops: ['Conv2D'],
    what: 'Conv2D 2×3 VALID, dilation 2',
    nodes: [
      node('y', 'Conv2D', ['x', 'w'], {
        strides: list(1, 1, 1, 1),
        padding: pad('VALID'),
        dilations: list(1, 2, 2, 1),
      }),
    ],
    consts: { w: floats([2, 3, 4, 3], 3) },
    outputs: ['y'],
  },
  {
    ops: ['_FusedConv2D'],
    what: '_FusedConv2D BiasAdd + Relu, stride 2',
    nodes: [
      node('y', '_FusedConv2D', ['x', 'w', 'b'], {
        strides: list(1, 2, 2, 1),
        padding: pad('SAME'),
        fused_ops: fused('BiasAdd', 'Relu'),
        num_args: int(1),
      }),
    ],
    consts: { w: floats([3, 3, 4, 5], 4), b: floats([5], 5) },
    outputs: ['y'],
  },
  {
    ops: ['_FusedConv2D'],
    what: '_FusedConv2D 1×1 BiasAdd + Relu6',
    nodes: [
      node('y', '_FusedConv2D', ['x', 'w', 'b'], {
        strides: list(1, 1, 1, 1),
        padding: pad('VALID'),
        fused_ops: fused('BiasAdd', 'Relu6'),
        num_args: int(1),
      }),
    ],
    consts: {
      w: { ...floats([1, 1, 4, 3], 6), values: floats([1, 1, 4, 3], 6).values.map((v) => v * 20) },
      b: floats([3], 11),
    },
    outputs: ['y'],
  },
  {
    ops: ['DepthwiseConv2dNative'],
    what: 'DepthwiseConv2dNative 3×3 SAME, stride 2, multiplier 2',
    nodes: [
      node('y', 'DepthwiseConv2dNative', ['x', 'w'], { strides: list(1, 2, 2, 1), padding: pad('SAME') }),
    ],
    consts: { w: floats([3, 3, 4, 2], 7) },
    outputs: ['y'],
  },
  {
    ops: ['FusedDepthwiseConv2dNative'],
    what: 'FusedDepthwiseConv2dNative 5×5 BiasAdd + Relu',
    nodes: [
      node('y', 'FusedDepthwiseConv2dNative', ['x', 'w', 'b'], {
        strides: list(1, 1, 1, 1),
        padding: pad('SAME'),
        fused_ops: fused('BiasAdd', 'Relu'),
        num_args: int(1),
      }),
    ],
    consts: { w: floats([5, 5, 4, 1], 8), b: floats([4], 9) },
    outputs: ['y'],
  },
  {
    ops: ['MaxPool'],
    what: 'MaxPool 3×3 SAME, stride 1 (the heatmap peak filter)',
    nodes: [
      node('y', 'MaxPool', ['x'], {
        ksize: list(1, 3, 3, 1),
        strides: list(1, 1, 1, 1),
        padding: pad('SAME'),
      }),
    ],
    outputs: ['y'],
  },
  {
    ops: ['MaxPool', 'AvgPool'],
    what: 'MaxPool and AvgPool 2×2 stride 2, SAME on odd sizes',
    nodes: [
      node('m', 'MaxPool', ['x'], {
        ksize: list(1, 2, 2, 1),
        strides: list(1, 2, 2, 1),
        padding: pad('SAME'),
      }),
      node('a', 'AvgPool', ['x'], {
        ksize: list(1, 3, 3, 1),
        strides: list(1, 2, 2, 1),
        padding: pad('SAME'),
      }),
    ],
    outputs: ['m', 'a'],
  },
  ...(
    [
      [false, false],
      [true, false],
      [false, true],
    ] as const
  ).flatMap(([alignCorners, halfPixel]) =>
    (['ResizeBilinear', 'ResizeNearestNeighbor'] as const).map((op) => ({
      ops: [op],
      what: `${op} ×2 / ×1.6, align_corners ${alignCorners}, half_pixel_centers ${halfPixel}`,
      nodes: [
        node('y', op, ['x', 'size'], {
          align_corners: flag(alignCorners),
          half_pixel_centers: flag(halfPixel),
        }),
      ],
      consts: { size: ints(14, 15) },
      outputs: ['y'],
    })),
  ),
  {
    ops: ['Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum'],
    what: 'binary ops with a per-channel constant and a scalar (broadcasting)',
    nodes: [
      node('a', 'Add', ['x', 'c']),
      node('b', 'AddV2', ['a', 's']),
      node('c2', 'Sub', ['s', 'b']),
      node('d', 'Mul', ['c2', 'c']),
      node('e', 'RealDiv', ['d', 'c']),
      node('f', 'Maximum', ['e', 'x']),
      node('g', 'Minimum', ['f', 's']),
    ],
    consts: { c: floats([4], 10), s: { dtype: 'float32', shape: [], values: [0.25] } },
    outputs: ['a', 'b', 'c2', 'd', 'e', 'g'],
  },
  {
    ops: ['Relu', 'Relu6', 'Sigmoid', 'Tanh', 'Identity'],
    what: 'unary activations',
    nodes: [
      node('big', 'Mul', ['x', 's']),
      node('r', 'Relu', ['big']),
      node('r6', 'Relu6', ['big']),
      node('sg', 'Sigmoid', ['big']),
      node('th', 'Tanh', ['x']),
      node('id', 'Identity', ['th']),
    ],
    consts: { s: { dtype: 'float32', shape: [], values: [9] } },
    outputs: ['r', 'r6', 'sg', 'id'],
  },
  {
    ops: ['Mean'],
    what: 'Mean over H, W keeping dims (squeeze-excite)',
    nodes: [node('y', 'Mean', ['x', 'axes'], { keep_dims: flag(true) })],
    consts: { axes: ints(1, 2) },
    outputs: ['y'],
  },
  {
    ops: ['ConcatV2'],
    what: 'ConcatV2 on channels',
    nodes: [node('r', 'Relu', ['x']), node('y', 'ConcatV2', ['x', 'r', 'axis'], { N: int(2) })],
    consts: { axis: scalarInt(3) },
    outputs: ['y'],
  },
  {
    ops: ['Reshape', 'Transpose', 'Pad', 'ExpandDims'],
    what: 'Reshape, Transpose, Pad, ExpandDims',
    nodes: [
      node('r', 'Reshape', ['x', 'shape']),
      node('t', 'Transpose', ['x', 'perm']),
      node('p', 'Pad', ['x', 'pads']),
      node('e', 'ExpandDims', ['x', 'dim']),
    ],
    consts: {
      shape: ints(1, -1, 4),
      perm: ints(0, 3, 1, 2),
      pads: { dtype: 'int32', shape: [4, 2], values: [0, 0, 1, 2, 0, 1, 0, 0] },
      dim: scalarInt(-1),
    },
    outputs: ['r', 't', 'p', 'e'],
  },
  {
    ops: ['Equal', 'Cast'],
    what: 'Equal with its max-pooled self, Cast bool → float (the peak mask)',
    nodes: [
      node('m', 'MaxPool', ['x'], {
        ksize: list(1, 3, 3, 1),
        strides: list(1, 1, 1, 1),
        padding: pad('SAME'),
      }),
      node('eq', 'Equal', ['x', 'm']),
      node('y', 'Cast', ['eq'], { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_FLOAT' } }),
    ],
    outputs: ['y'],
  },
  {
    ops: ['StridedSlice'],
    what: 'StridedSlice with begin/end masks, a step and a shrunk axis',
    nodes: [
      node('a', 'StridedSlice', ['x', 'b1', 'e1', 's1'], { begin_mask: int(3), end_mask: int(3) }),
      node('b', 'StridedSlice', ['x', 'b2', 'e2', 's2'], {
        begin_mask: int(1),
        end_mask: int(9),
        shrink_axis_mask: int(4),
      }),
    ],
    consts: {
      b1: ints(0, 0, 1, 1),
      e1: ints(0, 0, 8, 3),
      s1: ints(1, 1, 2, 1),
      b2: ints(0, 1, 3, 0),
      e2: ints(0, 6, 4, 0),
      s2: ints(1, 1, 1, 1),
    },
    outputs: ['a', 'b'],
  },
  {
    ops: ['TopKV2', 'FloorDiv', 'FloorMod', 'GatherV2'],
    what: 'TopKV2 values and indices, FloorDiv / FloorMod on the indices, GatherV2 by them',
    nodes: [
      node('flat', 'Reshape', ['x', 'flatShape']),
      node('top', 'TopKV2', ['flat', 'k'], { sorted: flag(true) }),
      node('row', 'FloorDiv', ['top:1', 'width']),
      node('col', 'FloorMod', ['top:1', 'width']),
      node('fd', 'FloorDiv', ['flat', 'half']),
      node('table', 'Reshape', ['x', 'tableShape']),
      node('idx', 'Reshape', ['top:1', 'idxShape']),
      node('g', 'GatherV2', ['table', 'idx', 'axis'], { batch_dims: int(0) }),
    ],
    consts: {
      flatShape: ints(1, -1),
      k: scalarInt(10),
      width: scalarInt(9),
      half: { dtype: 'float32', shape: [], values: [-0.3] },
      tableShape: ints(-1, 1),
      idxShape: ints(-1),
      axis: scalarInt(0),
    },
    outputs: ['top', 'top:1', 'row', 'col', 'fd', 'g'],
  },
];

/** The case as TFJS model artifacts: topology with Placeholder x and Consts, weights packed. */
function modelJson(c: OpCase): { json: TfjsModelJson; weights: Uint8Array } {
  const consts = Object.entries(c.consts ?? {});
  const typeOf = (dtype: string) => (dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32');
  const nodes: TfNode[] = [
    node('x', 'Placeholder', [], {
      dtype: { type: 'DT_FLOAT' },
      shape: { shape: { dim: (c.inputShape ?? X_SHAPE).map((size) => ({ size: String(size) })) } },
    }),
    ...consts.map(([name, value]) => ({
      name,
      op: 'Const',
      attr: { dtype: { type: typeOf(value.dtype) } },
    })),
    // Attributes tfjs requires of every conv, filled in where a case leaves them out.
    ...c.nodes.map((n) => ({
      ...n,
      attr: {
        T: { type: 'DT_FLOAT' },
        ...(n.op.includes('Conv') ? { dilations: list(1, 1, 1, 1) } : {}),
        ...n.attr,
      },
    })),
  ];
  const bytes = consts.map(([, value]) =>
    value.dtype === 'float32'
      ? new Uint8Array(new Float32Array(value.values).buffer)
      : new Uint8Array(new Int32Array(value.values).buffer),
  );
  const weights = new Uint8Array(Buffer.concat(bytes));
  const manifest = consts.map(([name, value]) => ({ name, shape: value.shape, dtype: value.dtype }));
  return {
    json: {
      format: 'graph-model',
      modelTopology: { node: nodes },
      weightsManifest: [{ paths: ['w.bin'], weights: manifest }],
    },
    weights,
  };
}

async function runTfjs(c: OpCase, input: Float32Array): Promise<Float32Array[]> {
  const { json, weights } = modelJson(c);
  const model = await loadGraphModel({
    load: async () => ({
      modelTopology: { ...json.modelTopology, versions: {} },
      weightSpecs: json.weightsManifest[0]!.weights as tf.io.WeightsManifestEntry[],
      weightData: weights.buffer.slice(
        weights.byteOffset,
        weights.byteOffset + weights.byteLength,
      ) as ArrayBuffer,
      format: 'graph-model',
    }),
  });
  const x = tf.tensor(input, c.inputShape ?? X_SHAPE, 'float32');
  try {
    const executed = model.execute({ x }, c.outputs);
    const outputs = Array.isArray(executed) ? executed : [executed];
    const data = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
    outputs.forEach((t) => t.dispose());
    return data;
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function runOnnx(c: OpCase, input: Float32Array): Promise<Float32Array[]> {
  const { json, weights } = modelJson(c);
  const bytes = convertTfjsGraph(readTfjsGraph(json, weights), { outputs: c.outputs });
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  try {
    const result = await session.run({ x: new ort.Tensor('float32', input, c.inputShape ?? X_SHAPE) });
    return c.outputs.map((name) => {
      const data = result[name.replace(/:0$/, '')]!.data;
      return Float32Array.from(data as ArrayLike<number>, Number);
    });
  } finally {
    await session.release();
  }
}

before(async () => {
  await initWasmBackend();
});

describe('TFJS → ONNX op mappings agree with tfjs', () => {
  const input = new Float32Array(
    values(
      X_SHAPE.reduce((a, b) => a * b, 1),
      99,
    ).map((v) => v * 3),
  );
  for (const c of CASES) {
    test(c.what, async () => {
      const expected = await runTfjs(c, input);
      const actual = await runOnnx(c, input);
      c.outputs.forEach((name, i) => {
        const want = expected[i]!;
        const got = actual[i]!;
        assert.equal(got.length, want.length, `${name}: element count`);
        for (let j = 0; j < want.length; j++) {
          const tolerance = 1e-4 * Math.max(1, Math.abs(want[j]!));
          assert.ok(
            Math.abs(got[j]! - want[j]!) <= tolerance,
            `${name}[${j}]: onnx ${got[j]} vs tfjs ${want[j]}`,
          );
        }
      });
    });
  }
});

test('every op the converter claims is covered by a case above', () => {
  const covered = new Set(['Placeholder', 'Const', ...CASES.flatMap((c) => c.ops)]);
  assert.deepEqual(
    SUPPORTED_OPS.filter((op) => !covered.has(op)),
    [],
  );
});

test('an op without a mapping fails the conversion, naming the op and the node', () => {
  const { json, weights } = modelJson({
    ops: [],
    what: '',
    nodes: [node('y', 'Softplus', ['x'])],
    outputs: ['y'],
  });
  assert.throws(() => convertTfjsGraph(readTfjsGraph(json, weights)), /Softplus \(node y\)/);
});

test('float16 weights decode exactly', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
});

test('StridedSlice with a step and a shrunk axis follows TF: x[:, 1:6:2, 3, :]', async () => {
  // Checked against direct indexing, not tfjs: tfjs 4.22 gets this combination wrong.
  const c: OpCase = {
    ops: ['StridedSlice'],
    what: '',
    nodes: [
      node('y', 'StridedSlice', ['x', 'b', 'e', 's'], {
        begin_mask: int(1),
        end_mask: int(9),
        shrink_axis_mask: int(4),
      }),
    ],
    consts: { b: ints(0, 1, 3, 0), e: ints(0, 6, 4, 0), s: ints(1, 2, 1, 1) },
    outputs: ['y'],
  };
  const [, height, width, channels] = X_SHAPE as [number, number, number, number];
  const input = new Float32Array(
    values(
      X_SHAPE.reduce((a, b) => a * b, 1),
      5,
    ),
  );
  const expected: number[] = [];
  for (let h = 1; h < 6; h += 2)
    for (let ch = 0; ch < channels; ch++) expected.push(input[(h * width + 3) * channels + ch]!);
  assert.ok(height >= 6);
  const [actual] = await runOnnx(c, input);
  assert.deepEqual(Array.from(actual!), expected);
});
