/**
 * The allowed arrows between Vigil's folders (docs/design/architecture.md draws them). A folder
 * may import itself and the folders listed for it; anything else, and any import cycle, fails
 * `npm run lint:deps` and so `npm test`. Type-only imports count: a type is a dependency too.
 */
const belowApi = [
  'errors',
  'time',
  'media',
  'config',
  'storage',
  'audit',
  'auth',
  'ingest',
  'recording',
  'live',
  'events',
  'camera',
  'analytics',
  'camera-admin',
  'system',
  'metrics',
  'privacy',
  'approvals',
  'evidence',
  'export',
  'rules',
  'notify',
  'onvif',
  'contract',
];

const layers = {
  contract: [],
  errors: [],
  time: ['errors'],
  media: ['errors'],
  config: ['errors', 'time', 'contract'],
  storage: ['errors', 'time', 'media', 'config', 'contract'],
  audit: ['errors', 'time', 'storage', 'contract'],
  auth: ['errors', 'time', 'storage', 'audit', 'config', 'contract'],
  ingest: ['errors', 'time', 'media', 'config', 'contract'],
  recording: ['errors', 'time', 'media', 'config', 'storage', 'ingest', 'contract'],
  live: ['errors', 'time', 'media', 'ingest', 'contract'],
  events: ['errors', 'time', 'config', 'storage', 'contract'],
  // The pipeline: one camera's streams fanned out to the recorder, live view and snapshots.
  camera: ['errors', 'time', 'media', 'config', 'storage', 'ingest', 'recording', 'live', 'contract'],
  // A subscriber of the camera runtime: it registers there and sends tracks to events.
  analytics: ['errors', 'time', 'media', 'config', 'storage', 'ingest', 'camera', 'events', 'contract'],
  // Camera configuration at run time: add, change, remove, test, with their audit entries.
  'camera-admin': ['errors', 'time', 'config', 'storage', 'audit', 'auth', 'ingest', 'camera', 'contract'],
  // The health and system views: storage, ingest and versions, read-only.
  system: ['errors', 'time', 'config', 'storage', 'ingest', 'camera', 'contract'],
  // Prometheus metrics, read from the running parts at scrape time: read-only like system.
  metrics: [
    'errors',
    'time',
    'config',
    'storage',
    'ingest',
    'recording',
    'live',
    'camera',
    'analytics',
    'events',
    'contract',
  ],
  // Privacy masks and redaction: pictures and video changed before they leave the server.
  // Redaction runs the analytics detectors (the tfjs runtime, the person detector, the image and
  // box helpers) on exported video, so privacy sits above analytics; analytics must never import
  // privacy (masks reach analytics as polygons through the composition root).
  // Lifts of liftable masks are stored (storage) and audited (audit); masked video subscribes to the
  // camera runtime like live view, and reads recordings like playback.
  privacy: [
    'errors',
    'time',
    'media',
    'config',
    'storage',
    'audit',
    'auth',
    'ingest',
    'recording',
    'live',
    'camera',
    'analytics',
    'approvals',
    'contract',
  ],
  // Four-eyes approval: actions registered by the modules above, run when a second user approves.
  approvals: ['errors', 'time', 'config', 'storage', 'audit', 'auth', 'contract'],
  // Evidence locks, and the destructive actions that must respect them (event and recording deletion).
  evidence: ['errors', 'time', 'config', 'storage', 'audit', 'auth', 'events', 'approvals', 'contract'],
  // Signed export bundles: the copy export, transforms, manifest, signature, zip, share links, verify;
  // an unmasked bundle is an approvable action.
  export: [
    'errors',
    'time',
    'media',
    'config',
    'storage',
    'audit',
    'auth',
    'recording',
    'approvals',
    'contract',
  ],
  // Rules: scene facts from the event bus to alerts, kept in storage, sent through events' MQTT bridge.
  rules: ['errors', 'time', 'config', 'storage', 'audit', 'events', 'contract'],
  // Alert delivery: webhooks and Web Push; push reads users and their camera grants (auth).
  notify: ['errors', 'time', 'config', 'storage', 'auth', 'contract'],
  // ONVIF: discovery, device probing, PTZ (audited), the cameras' own events; the network check of ingest.
  onvif: ['errors', 'time', 'config', 'audit', 'ingest', 'contract'],
  // Routes over every module below them.
  api: belowApi,
  // The composition root: it wires every module; nothing but the CLI imports it.
  app: [...belowApi, 'api'],
  // Backup and restore of what cannot be rebuilt from recordings: database, secret key, config.
  backup: ['errors', 'time', 'config', 'storage', 'auth', 'notify', 'contract'],
  cli: ['errors', 'time', 'config', 'storage', 'audit', 'auth', 'backup', 'export', 'app', 'contract'],
};

const folders = Object.keys(layers).join('|');

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Modules depend one way; a cycle means two modules are really one, or one is misplaced.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      comment: 'Every folder under src/ has a place in the layers above; add a new one there first.',
      severity: 'error',
      from: { path: `^src/(?!(${folders})/)[^/]+/` },
      to: {},
    },
    {
      name: 'web-only-contract',
      comment: 'The web UI shares the wire types (src/contract) with the server, and nothing else.',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: '^src/', pathNot: '^src/contract/' },
    },
  ],
  allowed: [
    {
      from: { path: '^(src|web|test|bench|scripts)/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'core', 'npm-no-pkg', 'npm-unknown'] },
    },
    // The web UI reaches the contract through its alias (@contract/*, web/tsconfig.json).
    { from: { path: '^web/' }, to: { path: '^(web/|src/contract/|@contract/)' } },
    ...Object.entries(layers).map(([folder, allowed]) => ({
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${[folder, ...allowed].join('|')})/` },
    })),
  ],
  allowedSeverity: 'error',
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
