/**
 * A TFJS graph model (model.json topology + weights manifest + weight bytes) read into plain
 * values: the nodes and every weight as a typed array. Pure: the caller reads the files.
 */

/** One attribute value of a TensorFlow NodeDef as TFJS stores it (JSON of the protobuf). */
export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { i?: Array<string | number>; s?: string[]; f?: number[] };
  shape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean };
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export type TfDtype = 'float32' | 'int32' | 'bool';

export interface TfTensor {
  dtype: TfDtype;
  shape: number[];
  /** float32 as Float32Array; int32 and bool (0/1) as Int32Array. */
  values: Float32Array | Int32Array;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

/** model.json of a TFJS graph model: the parts the converter reads. */
export interface TfjsModelJson {
  format?: string;
  modelTopology: { node: TfNode[] };
  weightsManifest: Array<{ paths: string[]; weights: WeightEntry[] }>;
}

export interface TfjsGraph {
  nodes: TfNode[];
  weights: Map<string, TfTensor>;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

/** Decode every weight of `model` from the concatenated weight files (`data`, in manifest order). */
export function readTfjsGraph(model: TfjsModelJson, data: Uint8Array): TfjsGraph {
  const weights = new Map<string, TfTensor>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const group of model.weightsManifest) {
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const width = BYTES[stored];
      if (width === undefined) throw new Error(`weight ${entry.name}: unsupported storage type ${stored}`);
      if (offset + count * width > data.byteLength)
        throw new Error(`weight ${entry.name} runs past the end of the weight data`);
      weights.set(entry.name, decodeWeight(entry, view, offset, count));
      offset += count * width;
    }
  }
  return { nodes: model.modelTopology.node, weights };
}

function decodeWeight(entry: WeightEntry, view: DataView, offset: number, count: number): TfTensor {
  const dtype = asDtype(entry.dtype);
  const q = entry.quantization;
  const values = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) values[i] = readValue(entry, view, offset, i, q);
  return { dtype, shape: entry.shape, values };
}

function readValue(
  entry: WeightEntry,
  view: DataView,
  offset: number,
  i: number,
  q: WeightEntry['quantization'],
): number {
  if (!q) {
    if (entry.dtype === 'float32') return view.getFloat32(offset + i * 4, true);
    if (entry.dtype === 'int32') return view.getInt32(offset + i * 4, true);
    return view.getUint8(offset + i);
  }
  if (q.dtype === 'float16') return halfToFloat(view.getUint16(offset + i * 2, true));
  // Affine quantisation (tfjs-converter --quantize_uint8/uint16): value = q × scale + min.
  const raw = q.dtype === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + i * 2, true);
  const value = raw * (q.scale ?? 1) + (q.min ?? 0);
  return entry.dtype === 'int32' ? Math.round(value) : value;
}

function asDtype(dtype: string): TfDtype {
  if (dtype === 'float32' || dtype === 'int32' || dtype === 'bool') return dtype;
  throw new Error(`unsupported weight type ${dtype}`);
}

/** IEEE 754 half → number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
