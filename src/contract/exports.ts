/** Signed export bundles, their share links, the signing key and bundle verification. */

/** POST /api/cameras/:id/exports. Times are ISO-8601 or epoch ms, like the other range routes. */
export interface CreateExportBody {
  from: string;
  to: string;
  stream?: 'main' | 'sub';
  /** Why the export is made (required): written into the signed manifest and the audit log. */
  reason: string;
  /** Blur every face before signing (face detection only); the manifest declares it. */
  redact?: 'faces';
}

export interface ExportView {
  id: number;
  cameraId: string;
  stream: string;
  fromMs: number;
  toMs: number;
  userId: number | null;
  userName: string;
  reason: string;
  createdAtMs: number;
  byteLength: number;
  /** SHA-256 of the bundle file (the zip). */
  sha256: string;
  /** Where to download it (GET, with the caller's own session or token). */
  downloadPath: string;
  /** When the bundle file was removed (by a user, or after retention.exportsDays); null: it is there. */
  deletedAtMs: number | null;
}

export interface ExportList {
  exports: ExportView[];
}

/** POST /api/exports/:id/shares. */
export interface CreateShareBody {
  /** Who the link is for (an address or a name): recorded with every download. */
  recipient: string;
  /** How long the link works, at most 30 days. */
  expiresInMs: number;
}

export interface ShareView {
  id: number;
  exportId: number;
  recipient: string;
  createdBy: string;
  createdAtMs: number;
  expiresAtMs: number;
  revokedAtMs: number | null;
  downloadCount: number;
  lastDownloadAtMs: number | null;
}

export interface ShareList {
  shares: ShareView[];
}

/** The token is shown here once; the server keeps only its hash. */
export interface CreatedShare {
  share: ShareView;
  token: string;
  /** The path of the link (prefix the server's address): works without an account until it expires. */
  path: string;
}

/** GET /api/system/signing-key: the installation's public key. */
export interface SigningKeyResponse {
  algorithm: 'Ed25519';
  pem: string;
  rawBase64: string;
  fingerprint: string;
}

export type BundlePartName = 'manifest.json' | 'manifest.sig' | 'public-key.pem' | 'video.mp4' | 'zip';

/** POST /api/verify: the verdict on an uploaded bundle. */
export interface VerifyResponse {
  ok: boolean;
  failures: Array<{ part: BundlePartName; message: string }>;
  /** 'copy': exactly the recorded segments; 'transformed': the declared transforms of them. */
  content: 'copy' | 'transformed' | null;
  /** Whether the signing key is this installation's ('installation'), another's ('other'). */
  keyTrust: 'installation' | 'given' | 'mismatch' | 'other' | 'unchecked';
  fingerprint: string | null;
  manifest: {
    cameraId: string;
    cameraName: string;
    stream: string;
    fromMs: number;
    toMs: number;
    exportedBy: { userId: number; name: string };
    reason: string;
    createdAtMs: number;
    vigilVersion: string;
    transforms: Array<Record<string, unknown>>;
    segmentCount: number;
  } | null;
  /** The verdict as the command line prints it. */
  lines: string[];
}
