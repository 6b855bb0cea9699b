/**
 * Security headers for every response. The web UI loads only its own files; hls.js plays
 * media from blob: URLs and may start a worker from one; images include data: URLs; React sets
 * style attributes, which CSP's style-src governs, hence 'unsafe-inline' for styles only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface SecurityHeaderOptions {
  /** Served over TLS. */
  tls: boolean;
  /**
   * True when the certificate is self-signed. Then no HSTS: with HSTS a browser refuses to let
   * the user click through the warning of a self-signed certificate, locking them out.
   */
  selfSigned: boolean;
}

export function securityHeaders(options: SecurityHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // The microphone for talking through a camera (live view), from this origin only.
    'permissions-policy': 'camera=(), microphone=(self), geolocation=(), payment=(), usb=()',
  };
  if (options.tls && !options.selfSigned) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}
