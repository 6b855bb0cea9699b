/**
 * A change made to recorded video on its way out (privacy masks burnt in, faces blurred): made by
 * privacy, run by exports, declared in what is handed over. Transforms run in order, each from
 * the previous one's output file to a new file.
 */
export interface VideoTransform {
  /** What the transform did, as a manifest records it: at least a `name`; JSON values only. */
  describe(): Record<string, unknown>;
  /** Reads the MP4 at inputPath and writes the transformed MP4 to outputPath (a new file). */
  apply(inputPath: string, outputPath: string): Promise<void>;
}
