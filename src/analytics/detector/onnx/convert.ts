/**
 * TFJS graph model → ONNX ModelProto, for running the CenterNet detector on onnxruntime. Pure:
 * bytes in, bytes out.
 *
 * Layout: TFJS graphs are NHWC; ONNX's Conv, MaxPool and Resize are NCHW. Every such op is
 * wrapped in a pair of Transposes (NHWC → NCHW → op → NHWC) and every other op keeps TF's
 * layout, so elementwise ops, reductions and the detection head's index arithmetic need no
 * rewriting. onnxruntime's transpose optimiser (on at every optimisation level) then pushes the
 * Transposes through the elementwise ops and cancels the pairs between consecutive convolutions.
 */
import onnxProto from 'onnx-proto';
import type { TfAttr, TfjsGraph, TfNode, TfTensor } from './tfjs-graph.js';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** Opset 18: ReduceMean takes its axes as an input; Shape takes start/end. */
export const ONNX_OPSET = 18;
const DT = onnx.TensorProto.DataType;
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

export interface ConvertOptions {
  /** Graph outputs by TF node name; default: every node no other node reads, except Consts. */
  outputs?: string[];
}

/** The TF ops the converter maps. Anything else fails the conversion with the op's name. */
export const SUPPORTED_OPS = [
  'Placeholder',
  'Const',
  'Identity',
  'Conv2D',
  '_FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'MaxPool',
  'AvgPool',
  'ResizeBilinear',
  'ResizeNearestNeighbor',
  'Add',
  'AddV2',
  'Sub',
  'Mul',
  'RealDiv',
  'Maximum',
  'Minimum',
  'Equal',
  'FloorDiv',
  'FloorMod',
  'Relu',
  'Relu6',
  'Sigmoid',
  'Tanh',
  'Mean',
  'ConcatV2',
  'Reshape',
  'Transpose',
  'Pad',
  'Cast',
  'ExpandDims',
  'StridedSlice',
  'TopKV2',
  'GatherV2',
] as const;

const BINARY: Record<string, string> = {
  Add: 'Add',
  AddV2: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  RealDiv: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
  Equal: 'Equal',
};
const UNARY: Record<string, string> = {
  Relu: 'Relu',
  Sigmoid: 'Sigmoid',
  Tanh: 'Tanh',
  Identity: 'Identity',
};
const TF_TYPES: Record<string, number> = {
  DT_FLOAT: DT.FLOAT,
  DT_INT32: DT.INT32,
  DT_INT64: DT.INT64,
  DT_BOOL: DT.BOOL,
};

/** Convert a TFJS graph to a serialised ONNX model. Throws naming the first op it cannot map. */
export function convertTfjsGraph(graph: TfjsGraph, options: ConvertOptions = {}): Uint8Array {
  const builder = new GraphBuilder(graph);
  for (const node of graph.nodes) builder.convert(node);
  const outputs = options.outputs ?? builder.unreadOutputs();
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'vigil tfjs-to-onnx',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: onnx.GraphProto.create({
      name: 'converted',
      node: builder.nodes,
      initializer: builder.initializers,
      input: builder.inputs,
      output: outputs.map((name) => valueInfo(tensorName(name), builder.typeOf(name), null)),
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** TF input reference → ONNX value name: `x:0` and `x` are the same tensor. */
function tensorName(ref: string): string {
  return ref.endsWith(':0') ? ref.slice(0, -2) : ref;
}

function valueInfo(name: string, elemType: number, shape: number[] | null): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: shape
          ? { dim: shape.map((size) => (size > 0 ? { dimValue: size } : { dimParam: 'n' })) }
          : null,
      },
    },
  };
}

function attrString(attr: TfAttr | undefined): string {
  return attr?.s === undefined ? '' : Buffer.from(attr.s, 'base64').toString('utf8');
}

function attrInts(attr: TfAttr | undefined): number[] {
  return (attr?.list?.i ?? []).map(Number);
}

function attrInt(attr: TfAttr | undefined, fallback = 0): number {
  return attr?.i === undefined ? fallback : Number(attr.i);
}

function ints(name: string, values: number[]): IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}
function int(name: string, value: number): IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}
function str(name: string, value: string): IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(value) };
}
function float(name: string, value: number): IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  readonly inputs: IValueInfoProto[] = [];
  private readonly emitted = new Set<string>();
  private readonly types = new Map<string, number>();
  private readonly read = new Set<string>();
  private readonly order: string[] = [];
  private counter = 0;

  constructor(private readonly graph: TfjsGraph) {}

  typeOf(ref: string): number {
    return this.types.get(tensorName(ref)) ?? DT.FLOAT;
  }

  /** Nodes whose output nobody reads: the graph's natural outputs. */
  unreadOutputs(): string[] {
    return this.order.filter((name) => !this.read.has(name));
  }

  convert(node: TfNode): void {
    const inputs = (node.input ?? []).filter((ref) => !ref.startsWith('^')).map(tensorName);
    for (const ref of inputs) this.read.add(ref.replace(/:\d+$/, ''));
    if (node.op === 'Const') return;
    this.order.push(node.name);
    const handler = this.handlers[node.op];
    if (handler) handler(node, inputs);
    else if (!this.generic(node, inputs))
      throw new Error(`TF op ${node.op} (node ${node.name}) has no ONNX mapping`);
  }

  private readonly handlers: Record<string, (node: TfNode, inputs: string[]) => void> = {
    Placeholder: (node) => {
      const dims = (node.attr?.['shape']?.shape?.dim ?? []).map((d) => Number(d.size ?? -1));
      const type = TF_TYPES[node.attr?.['dtype']?.type ?? 'DT_FLOAT'] ?? DT.FLOAT;
      this.inputs.push(valueInfo(node.name, type, dims));
      this.types.set(node.name, type);
    },
    Conv2D: (node, inputs) => this.conv(node, inputs, false),
    _FusedConv2D: (node, inputs) => this.conv(node, inputs, false),
    DepthwiseConv2dNative: (node, inputs) => this.conv(node, inputs, true),
    FusedDepthwiseConv2dNative: (node, inputs) => this.conv(node, inputs, true),
    MaxPool: (node, inputs) => this.pool(node, inputs, 'MaxPool'),
    AvgPool: (node, inputs) => this.pool(node, inputs, 'AveragePool'),
    ResizeBilinear: (node, inputs) => this.resize(node, inputs, 'linear'),
    ResizeNearestNeighbor: (node, inputs) => this.resize(node, inputs, 'nearest'),
    Relu6: (node, inputs) =>
      this.emit(
        'Clip',
        [this.value(inputs[0]!), this.scalar(0, DT.FLOAT), this.scalar(6, DT.FLOAT)],
        [node.name],
      ),
    FloorDiv: (node, inputs) => this.floorDiv(node, inputs),
    FloorMod: (node, inputs) =>
      this.emit(
        'Mod',
        inputs.map((ref) => this.value(ref)),
        [node.name],
        [int('fmod', 0)],
        this.typeOf(inputs[0]!),
      ),
    Mean: (node, inputs) =>
      this.emit(
        'ReduceMean',
        [this.value(inputs[0]!), this.int64Const(this.constInts(inputs[1]!))],
        [node.name],
        [int('keepdims', node.attr?.['keep_dims']?.b ? 1 : 0)],
      ),
    ConcatV2: (node, inputs) => {
      const axis = this.constInts(inputs[inputs.length - 1]!)[0]!;
      const data = inputs.slice(0, -1);
      this.emit(
        'Concat',
        data.map((ref) => this.value(ref)),
        [node.name],
        [int('axis', axis)],
        this.typeOf(data[0]!),
      );
    },
    Reshape: (node, inputs) =>
      this.emit(
        'Reshape',
        [this.value(inputs[0]!), this.int64Const(this.constInts(inputs[1]!))],
        [node.name],
        [],
        this.typeOf(inputs[0]!),
      ),
    Transpose: (node, inputs) =>
      this.emit(
        'Transpose',
        [this.value(inputs[0]!)],
        [node.name],
        [ints('perm', this.constInts(inputs[1]!))],
        this.typeOf(inputs[0]!),
      ),
    Pad: (node, inputs) => {
      const pairs = this.constInts(inputs[1]!);
      const before = pairs.filter((_, i) => i % 2 === 0);
      const after = pairs.filter((_, i) => i % 2 === 1);
      this.emit(
        'Pad',
        [this.value(inputs[0]!), this.int64Const([...before, ...after])],
        [node.name],
        [],
        this.typeOf(inputs[0]!),
      );
    },
    Cast: (node, inputs) => {
      const to = TF_TYPES[node.attr?.['DstT']?.type ?? ''];
      if (to === undefined)
        throw new Error(`Cast ${node.name}: unsupported target ${node.attr?.['DstT']?.type}`);
      this.emit('Cast', [this.value(inputs[0]!)], [node.name], [int('to', to)], to);
    },
    ExpandDims: (node, inputs) =>
      this.emit(
        'Unsqueeze',
        [this.value(inputs[0]!), this.int64Const(this.constInts(inputs[1]!))],
        [node.name],
        [],
        this.typeOf(inputs[0]!),
      ),
    StridedSlice: (node, inputs) => this.stridedSlice(node, inputs),
    TopKV2: (node, inputs) => {
      if (node.attr?.['sorted']?.b === false)
        throw new Error(`TopKV2 ${node.name}: only sorted output is mapped`);
      const indices = this.fresh(`${node.name}/indices64`);
      this.emit(
        'TopK',
        [this.value(inputs[0]!), this.int64Const(this.constInts(inputs[1]!))],
        [node.name, indices],
        [int('largest', 1), int('sorted', 1)],
      );
      // TF's indices are int32; the graph's index arithmetic (FloorDiv, Gather) is typed on that.
      this.emit('Cast', [indices], [`${node.name}:1`], [int('to', DT.INT32)], DT.INT32);
    },
    GatherV2: (node, inputs) => {
      if (attrInt(node.attr?.['batch_dims']) !== 0)
        throw new Error(`GatherV2 ${node.name}: batch_dims is not mapped`);
      const axis = this.constInts(inputs[2]!)[0]!;
      this.emit(
        'Gather',
        [this.value(inputs[0]!), this.value(inputs[1]!)],
        [node.name],
        [int('axis', axis)],
        this.typeOf(inputs[0]!),
      );
    },
  };

  /** Elementwise ops and unary activations: same names, same layout, same broadcasting. */
  private generic(node: TfNode, inputs: string[]): boolean {
    const binary = BINARY[node.op];
    if (binary) {
      const type = binary === 'Equal' ? DT.BOOL : this.typeOf(inputs[0]!);
      this.emit(
        binary,
        inputs.map((ref) => this.value(ref)),
        [node.name],
        [],
        type,
      );
      return true;
    }
    const unary = UNARY[node.op];
    if (unary) {
      this.emit(unary, [this.value(inputs[0]!)], [node.name], [], this.typeOf(inputs[0]!));
      return true;
    }
    return false;
  }

  private conv(node: TfNode, inputs: string[], depthwise: boolean): void {
    const attr = node.attr ?? {};
    if (attrString(attr['data_format']) === 'NCHW')
      throw new Error(`${node.op} ${node.name}: NCHW input is not mapped`);
    const filter = this.constTensor(inputs[1]!);
    const [kh, kw, ci, m] = filter.shape as [number, number, number, number];
    const weights = depthwise ? depthwiseToOnnx(filter) : convToOnnx(filter);
    const fused = (attr['fused_ops']?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
    const strides = attrInts(attr['strides']);
    const dilations = attrInts(attr['dilations']);
    const convInputs = [this.toNchw(inputs[0]!), this.initializer(`${node.name}/onnx_weights`, weights)];
    if (fused.includes('BiasAdd')) convInputs.push(this.value(inputs[2]!));
    else if (fused.length > 0 && fused[0] !== 'BiasAdd')
      throw new Error(`${node.op} ${node.name}: fused ${fused.join('+')}`);
    const attributes = [
      ints('kernel_shape', [kh, kw]),
      ints('strides', strides.length === 4 ? [strides[1]!, strides[2]!] : [1, 1]),
      ints('dilations', dilations.length === 4 ? [dilations[1]!, dilations[2]!] : [1, 1]),
      ...this.padding(node),
    ];
    if (depthwise) attributes.push(int('group', ci));
    let out = this.fresh(`${node.name}/nchw`);
    this.emit('Conv', convInputs, [out], attributes);
    const activation = fused.slice(1);
    if (activation.length > 1) throw new Error(`${node.op} ${node.name}: fused ${fused.join('+')}`);
    if (activation.length === 1)
      out = this.activation(node, inputs, activation[0]!, out, depthwise ? ci * m : m);
    this.emit('Transpose', [out], [node.name], [ints('perm', TO_NHWC)]);
  }

  /** The activation fused into a conv, applied in NCHW. */
  private activation(node: TfNode, inputs: string[], op: string, x: string, channels: number): string {
    const out = this.fresh(`${node.name}/${op}`);
    if (op === 'Relu') this.emit('Relu', [x], [out]);
    else if (op === 'Relu6')
      this.emit('Clip', [x, this.scalar(0, DT.FLOAT), this.scalar(6, DT.FLOAT)], [out]);
    else if (op === 'Sigmoid') this.emit('Sigmoid', [x], [out]);
    else if (op === 'Elu') this.emit('Elu', [x], [out]);
    else if (op === 'LeakyRelu')
      this.emit('LeakyRelu', [x], [out], [float('alpha', node.attr?.['leakyrelu_alpha']?.f ?? 0.2)]);
    else if (op === 'Prelu') {
      const alpha = this.constTensor(inputs[3]!);
      const shaped: TfTensor = { ...alpha, shape: [channels, 1, 1] };
      this.emit('PRelu', [x, this.initializer(`${node.name}/onnx_alpha`, shaped)], [out]);
    } else throw new Error(`${node.op} ${node.name}: fused activation ${op} is not mapped`);
    return out;
  }

  private padding(node: TfNode): IAttributeProto[] {
    const padding = attrString(node.attr?.['padding']);
    // TF's SAME puts the odd pixel of padding after (bottom/right): ONNX's SAME_UPPER.
    if (padding === 'SAME') return [str('auto_pad', 'SAME_UPPER')];
    if (padding === 'VALID') return [str('auto_pad', 'VALID')];
    if (padding === 'EXPLICIT') {
      const p = attrInts(node.attr?.['explicit_paddings']);
      return [ints('pads', [p[2]!, p[4]!, p[3]!, p[5]!])];
    }
    throw new Error(`${node.op} ${node.name}: padding ${padding} is not mapped`);
  }

  private pool(node: TfNode, inputs: string[], op: 'MaxPool' | 'AveragePool'): void {
    const ksize = attrInts(node.attr?.['ksize']);
    const strides = attrInts(node.attr?.['strides']);
    const out = this.fresh(`${node.name}/nchw`);
    this.emit(
      op,
      [this.toNchw(inputs[0]!)],
      [out],
      [
        ints('kernel_shape', [ksize[1]!, ksize[2]!]),
        ints('strides', [strides[1]!, strides[2]!]),
        ...this.padding(node),
      ],
    );
    this.emit('Transpose', [out], [node.name], [ints('perm', TO_NHWC)]);
  }

  private resize(node: TfNode, inputs: string[], mode: 'linear' | 'nearest'): void {
    const alignCorners = node.attr?.['align_corners']?.b === true;
    const halfPixel = node.attr?.['half_pixel_centers']?.b === true;
    const transform = alignCorners
      ? 'align_corners'
      : halfPixel
        ? mode === 'nearest'
          ? 'tf_half_pixel_for_nn'
          : 'half_pixel'
        : 'asymmetric';
    const attributes = [str('mode', mode), str('coordinate_transformation_mode', transform)];
    // TF rounds nearest-neighbour coordinates down, except with align_corners.
    if (mode === 'nearest')
      attributes.push(str('nearest_mode', alignCorners ? 'round_prefer_ceil' : 'floor'));
    const x = this.toNchw(inputs[0]!);
    // Full-rank sizes [N, C, H, W] (N and C from the input's shape), not opset 18's `axes`:
    // onnxruntime's transpose optimiser loses `axes`-style sizes when it moves the Transposes.
    const batchChannels = this.fresh(`${node.name}/nc`);
    const sizes = this.fresh(`${node.name}/sizes`);
    this.emit('Shape', [x], [batchChannels], [int('end', 2)], DT.INT64);
    const hw = this.int64Const(this.constInts(inputs[1]!));
    this.emit('Concat', [batchChannels, hw], [sizes], [int('axis', 0)], DT.INT64);
    const out = this.fresh(`${node.name}/nchw`);
    this.emit('Resize', [x, '', '', sizes], [out], attributes);
    this.emit('Transpose', [out], [node.name], [ints('perm', TO_NHWC)]);
  }

  /** TF's floor division; ONNX's Div truncates on integers, so integers go through float. */
  private floorDiv(node: TfNode, inputs: string[]): void {
    const type = this.typeOf(inputs[0]!);
    const [a, b] = inputs.map((ref) => this.value(ref)) as [string, string];
    if (type === DT.FLOAT) {
      const q = this.fresh(`${node.name}/div`);
      this.emit('Div', [a, b], [q]);
      this.emit('Floor', [q], [node.name]);
      return;
    }
    // Exact while |values| < 2^24: indices and sizes of image tensors are far below that.
    const [fa, fb, q, f] = ['a', 'b', 'div', 'floor'].map((s) => this.fresh(`${node.name}/${s}`)) as [
      string,
      string,
      string,
      string,
    ];
    this.emit('Cast', [a], [fa], [int('to', DT.FLOAT)]);
    this.emit('Cast', [b], [fb], [int('to', DT.FLOAT)]);
    this.emit('Div', [fa, fb], [q]);
    this.emit('Floor', [q], [f]);
    this.emit('Cast', [f], [node.name], [int('to', type)], type);
  }

  private stridedSlice(node: TfNode, inputs: string[]): void {
    const attr = node.attr ?? {};
    if (attrInt(attr['ellipsis_mask']) !== 0 || attrInt(attr['new_axis_mask']) !== 0)
      throw new Error(`StridedSlice ${node.name}: ellipsis and new-axis masks are not mapped`);
    const begin = this.constInts(inputs[1]!);
    const end = this.constInts(inputs[2]!);
    const steps = this.constInts(inputs[3]!);
    const beginMask = attrInt(attr['begin_mask']);
    const endMask = attrInt(attr['end_mask']);
    const shrinkMask = attrInt(attr['shrink_axis_mask']);
    const big = 2 ** 31 - 1;
    const starts: number[] = [];
    const ends: number[] = [];
    const shrink: number[] = [];
    for (let axis = 0; axis < begin.length; axis++) {
      const step = steps[axis]!;
      const bit = 1 << axis;
      if (shrinkMask & bit) {
        starts.push(begin[axis]!);
        ends.push(begin[axis]! === -1 ? big : begin[axis]! + 1);
        shrink.push(axis);
        continue;
      }
      starts.push(beginMask & bit ? (step > 0 ? 0 : big) : begin[axis]!);
      ends.push(endMask & bit ? (step > 0 ? big : -big) : end[axis]!);
    }
    const type = this.typeOf(inputs[0]!);
    const sliced = shrink.length > 0 ? this.fresh(`${node.name}/slice`) : node.name;
    this.emit(
      'Slice',
      [
        this.value(inputs[0]!),
        this.int64Const(starts),
        this.int64Const(ends),
        this.int64Const(begin.map((_, i) => i)),
        this.int64Const(steps),
      ],
      [sliced],
      [],
      type,
    );
    if (shrink.length > 0) this.emit('Squeeze', [sliced, this.int64Const(shrink)], [node.name], [], type);
  }

  private toNchw(ref: string): string {
    const out = this.fresh(`${ref}/to_nchw`);
    this.emit('Transpose', [this.value(ref)], [out], [ints('perm', TO_NCHW)]);
    return out;
  }

  /** An input by TF reference: a weight becomes an initializer the first time it is read. */
  private value(ref: string): string {
    const name = tensorName(ref);
    const weight = this.graph.weights.get(name);
    if (weight && !this.emitted.has(name)) return this.initializer(name, weight);
    return name;
  }

  private constTensor(ref: string): TfTensor {
    const weight = this.graph.weights.get(tensorName(ref));
    if (!weight) throw new Error(`${ref} must be a constant (a weight) for this conversion`);
    return weight;
  }

  private constInts(ref: string): number[] {
    return Array.from(this.constTensor(ref).values);
  }

  private initializer(name: string, tensor: TfTensor): string {
    if (this.emitted.has(name)) return name;
    this.emitted.add(name);
    const type = tensor.dtype === 'float32' ? DT.FLOAT : tensor.dtype === 'int32' ? DT.INT32 : DT.BOOL;
    const proto: ITensorProto = { name, dims: tensor.shape, dataType: type };
    if (tensor.dtype === 'float32')
      proto.rawData = new Uint8Array(
        tensor.values.buffer,
        tensor.values.byteOffset,
        tensor.values.byteLength,
      );
    else proto.int32Data = Array.from(tensor.values);
    this.initializers.push(proto);
    this.types.set(name, type);
    return name;
  }

  private int64Const(values: number[]): string {
    const name = this.fresh('const_i64');
    this.initializers.push({ name, dims: [values.length], dataType: DT.INT64, int64Data: values });
    return name;
  }

  private scalar(value: number, type: number): string {
    const name = this.fresh('const');
    this.initializers.push({ name, dims: [], dataType: type, floatData: [value] });
    return name;
  }

  private fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  private emit(
    op: string,
    inputs: string[],
    outputs: string[],
    attribute: IAttributeProto[] = [],
    type = DT.FLOAT,
  ): void {
    this.nodes.push({ opType: op, input: inputs, output: outputs, attribute, name: this.fresh(op) });
    for (const out of outputs) this.types.set(out, type);
  }
}

/** TF conv filter [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
function convToOnnx(filter: TfTensor): TfTensor {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = new Float32Array(filter.values.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          out[((o * ci + i) * kh + h) * kw + w] = filter.values[((h * kw + w) * ci + i) * co + o]!;
  return { dtype: 'float32', shape: [co, ci, kh, kw], values: out };
}

/** TF depthwise filter [kh, kw, in, multiplier] → ONNX grouped [in × multiplier, 1, kh, kw]. */
function depthwiseToOnnx(filter: TfTensor): TfTensor {
  const [kh, kw, ci, m] = filter.shape as [number, number, number, number];
  const out = new Float32Array(filter.values.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < ci; i++)
        for (let j = 0; j < m; j++)
          out[((i * m + j) * kh + h) * kw + w] = filter.values[((h * kw + w) * ci + i) * m + j]!;
  return { dtype: 'float32', shape: [ci * m, 1, kh, kw], values: out };
}
