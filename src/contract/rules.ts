/**
 * Rules as the API takes and returns them (GET/POST/PUT/DELETE /api/rules) and as the config file
 * writes them (`rules:`). A rule turns scene facts (scene.ts) into alerts (alerts.ts).
 */
import type { CameraHealthState, LineDirectionFilter } from './scene.js';

/** Which objects count. Every field is optional: absent means no filter. */
export interface RuleObjectFilter {
  /** COCO labels; empty or absent: every label. */
  labels?: string[];
  /** Box area as a fraction of the frame, 0..1. */
  minAreaFraction?: number;
  maxAreaFraction?: number;
  /** Detection score, 0..1. */
  minScore?: number;
}

export interface ZoneEventCondition extends RuleObjectFilter {
  type: 'zone-entered' | 'zone-left';
  zoneId: string;
}

/** An object inside the zone for at least minInsideMs (loitering: the same, named for people lingering). */
export interface ZoneDwellCondition extends RuleObjectFilter {
  type: 'intrusion' | 'loitering';
  zoneId: string;
  minInsideMs: number;
}

export interface LineCrossedCondition extends RuleObjectFilter {
  type: 'line-crossed';
  lineId: string;
  direction: LineDirectionFilter;
}

/** More than `moreThan` objects of the labels (all labels when empty) in the zone for at least forMs. */
export interface CrowdingCondition {
  type: 'crowding';
  zoneId: string;
  labels?: string[];
  moreThan: number;
  forMs: number;
}

export interface CameraHealthCondition {
  type: 'camera-health';
  states: CameraHealthState[];
}

export type RuleCondition =
  ZoneEventCondition | ZoneDwellCondition | LineCrossedCondition | CrowdingCondition | CameraHealthCondition;

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/**
 * When a rule may fire, in the site's time zone (site.timeZone). A time range "HH:MM-HH:MM" starts
 * on each listed day; one that ends before it starts runs over midnight into the next day.
 */
export interface RuleSchedule {
  days: Weekday[];
  times: string[];
}

/** What a rule does besides the alert itself (always made: the row and the /api/ws message). */
export type RuleAction =
  | { type: 'mqtt' }
  | { type: 'keep'; days: number }
  | { type: 'webhook'; webhookId: string }
  | { type: 'push' };

/** Against alert storms: at most maxAlerts per windowMs per rule, and cooldownMs per rule and camera. */
export interface RuleLimit {
  maxAlerts: number;
  windowMs: number;
  cooldownMs: number;
}

/** A rule as written: POST /api/rules, PUT /api/rules/:id, and each entry of the config's `rules:`. */
export interface RuleDefinition {
  id: string;
  name: string;
  enabled: boolean;
  /** Camera ids, or 'all'. */
  cameras: string[] | 'all';
  /** The rule fires when any of them holds. */
  conditions: RuleCondition[];
  /** Null: always. */
  schedule: RuleSchedule | null;
  actions: RuleAction[];
  limit: RuleLimit;
}

export interface RuleStatus {
  /** Alerts made since Vigil started. */
  alertCount: number;
  /** Alerts held back by the rate limit or cool-down since Vigil started. */
  suppressedCount: number;
  lastAlertMs: number | null;
}

export interface RuleView extends RuleDefinition {
  /** 'config': from the config file, read-only; 'api': stored in the database, editable. */
  source: 'config' | 'api';
  status: RuleStatus;
}

/** GET /api/rules */
export interface RulesList {
  rules: RuleView[];
}
