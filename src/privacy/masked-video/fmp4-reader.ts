import {
  BoxSplitter,
  parseFragment,
  parseInitSegment,
  type Fragment,
  type InitSegment,
} from '../../media/mp4/index.js';

/** What a stream of fragmented MP4 bytes turned into so far. */
export type Fmp4Event =
  | { kind: 'init'; init: InitSegment }
  | { kind: 'fragment'; bytes: Buffer; parsed: Fragment; init: InitSegment };

/**
 * Cuts fragmented MP4 arriving in arbitrary chunks (ffmpeg's stdout) into its init segment and
 * its fragments (moof + mdat), parsed. Throws MEDIA_CORRUPT on bytes that are not MP4 boxes.
 */
export class Fmp4Reader {
  private readonly splitter = new BoxSplitter();
  private pendingFtyp: Buffer | null = null;
  private pendingMoof: Buffer | null = null;
  private init: InitSegment | null = null;

  push(chunk: Buffer): Fmp4Event[] {
    const events: Fmp4Event[] = [];
    for (const box of this.splitter.push(chunk)) {
      if (box.type === 'ftyp') this.pendingFtyp = box.bytes;
      else if (box.type === 'moov') {
        this.init = parseInitSegment(Buffer.concat([this.pendingFtyp ?? Buffer.alloc(0), box.bytes]));
        events.push({ kind: 'init', init: this.init });
      } else if (box.type === 'moof') this.pendingMoof = box.bytes;
      else if (box.type === 'mdat' && this.pendingMoof && this.init) {
        const bytes = Buffer.concat([this.pendingMoof, box.bytes]);
        const parsed = parseFragment(bytes.subarray(0, this.pendingMoof.length), 0, this.init);
        this.pendingMoof = null;
        events.push({ kind: 'fragment', bytes, parsed, init: this.init });
      }
    }
    return events;
  }
}
