import type { PrivacyNoticeResponse } from '../contract/system.js';
import {
  detectConfigFor,
  EDPB_CONTINUOUS_DAYS,
  type CameraConfig,
  type RetentionConfig,
  type SiteConfig,
} from '../config/index.js';

/** The config keys a notice needs: who records, why, and whom to ask (GDPR Art. 13, EDPB 3/2019 §7). */
const REQUIRED_SITE_KEYS = ['controller', 'purpose', 'contact'] as const;

/**
 * The privacy notice of a site, from its config: pure, so what the sign says is what the
 * settings say. A camera's own retention replaces the site's; a justification is shown only
 * where retention goes beyond the guidance.
 */
export function privacyNotice(
  site: SiteConfig,
  retention: RetentionConfig,
  cameras: readonly CameraConfig[],
  nowMs: number,
): PrivacyNoticeResponse {
  return {
    site: {
      name: site.name,
      controller: site.controller ?? null,
      purpose: site.purpose ?? null,
      contact: site.contact ?? null,
    },
    missing: REQUIRED_SITE_KEYS.filter((key) => site[key] === undefined).map((key) => `site.${key}`),
    cameras: cameras
      .filter((camera) => camera.enabled)
      .map((camera) => {
        const continuousDays = camera.retention?.continuousDays ?? retention.continuousDays;
        const detect = detectConfigFor(camera);
        return {
          id: camera.id,
          name: camera.name,
          continuousDays,
          justification:
            continuousDays > EDPB_CONTINUOUS_DAYS
              ? (camera.retention?.justification ?? retention.justification ?? null)
              : null,
          detects: detect.enabled ? [...detect.labels] : [],
        };
      }),
    eventsDays: retention.eventsDays,
    justification: retention.justification ?? null,
    generatedAtMs: nowMs,
  };
}
