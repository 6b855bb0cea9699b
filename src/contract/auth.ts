/**
 * Signing in, users, API tokens and the audit log. A "session" is a signed-in person's browser
 * session (the vigil_session cookie), nothing else (docs/design/glossary.md).
 */

export type Role = 'admin' | 'operator' | 'viewer' | 'auditor';

/** Who is signed in (GET /api/session, and the answer to sign-in and first-run setup). */
export interface SessionResponse {
  /** True until the first administrator exists: the UI shows the first-run setup. */
  setupRequired: boolean;
  user: {
    name: string;
    role: Role;
    /** Cameras granted; null = all. */
    cameras: string[] | null;
    totpEnabled: boolean;
    permissions: string[];
  } | null;
  /** Send back as X-CSRF-Token on every request that changes something. */
  csrfToken: string | null;
}

export interface UserView {
  id: number;
  name: string;
  role: Role;
  cameras: string[] | null;
  disabled: boolean;
  totpEnabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** The body of POST /api/users. */
export interface NewUser {
  name: string;
  role: Role;
  password: string;
  cameras?: string[] | null;
}

/** The body of PUT /api/users/:id. */
export interface UserChanges {
  role?: Role;
  disabled?: boolean;
  cameras?: string[] | null;
}

export interface TokenView {
  id: number;
  userName: string;
  label: string;
  /** Null: the whole of the owner's role, including permissions the role gains later. */
  scopes: string[] | null;
  createdAtMs: number;
  lastUsedAtMs: number | null;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

/** The answer to POST /api/tokens: the only time the token itself is shown. */
export type CreatedToken = TokenView & { token: string };

export interface AuditEntryView {
  seq: number;
  timeMs: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  ip: string | null;
}

export interface AuditPageResponse {
  entries: AuditEntryView[];
  nextCursor: string | null;
}

/** What GET /api/audit/verify answers (the part the UI shows). */
export interface AuditVerifyResponse {
  ok: boolean;
  message: string;
  checkedCount: number;
  problem: { message: string } | null;
  warnings: string[];
}
