import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { digestAuthorization, parseDigestChallenge } from '../../../src/onvif/digest-auth.js';
import { mergeDevices, probeMessage } from '../../../src/onvif/discovery.js';
import { onDeviceOrigin } from '../../../src/onvif/device.js';
import { deviceServiceUrl } from '../../../src/onvif/onvif-service.js';
import {
  eventKind,
  parseCapabilities,
  parseDeviceInformation,
  parseMediaUri,
  parseNotifications,
  parsePresets,
  parseProbeMatches,
  parseProfiles,
  parseServices,
  parseSystemTime,
  soapBody,
  soapFault,
} from '../../../src/onvif/parse.js';
import { proposeStreams } from '../../../src/onvif/proposal.js';
import { passwordDigest, usernameToken } from '../../../src/onvif/wsse.js';
import { REPO_ROOT } from '../../helpers/vigil.js';

const fixture = (name: string): string => readFileSync(`${REPO_ROOT}/test/fixtures/onvif/${name}`, 'utf8');
const body = (name: string) => soapBody(fixture(name));

test('WS-UsernameToken digest: the ONVIF Application Programmer’s Guide example', () => {
  const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
  assert.equal(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword'), 'tuOSpGlFlIXsozq4HFNeeGeFLEI=');
});

test('the token carries the camera’s time (ours plus the offset), without milliseconds', () => {
  const header = usernameToken(
    { user: 'a<b', password: 'p' },
    Buffer.alloc(16),
    Date.UTC(2026, 11, 5, 8, 0, 0, 123),
  );
  assert.match(header, /<wsu:Created>2026-12-05T08:00:00Z<\/wsu:Created>/);
  assert.match(header, /<wsse:Username>a&lt;b<\/wsse:Username>/);
});

test('HTTP Digest: the RFC 2617 example', () => {
  const challenge = parseDigestChallenge(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
      'opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assert.ok(challenge);
  const header = digestAuthorization(
    challenge,
    { user: 'Mufasa', password: 'Circle Of Life' },
    'GET',
    '/dir/index.html',
    '0a4f113b',
  );
  assert.match(header, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(header, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
  assert.equal(parseDigestChallenge('Basic realm="x"'), null);
  assert.equal(parseDigestChallenge(null), null);
});

test('ProbeMatches (Hikvision shape): endpoint, both XAddrs, decoded scopes', () => {
  const [device, ...rest] = parseProbeMatches(fixture('hikvision-probe-match.xml'));
  assert.equal(rest.length, 0);
  assert.deepEqual(device, {
    endpoint: 'urn:uuid:3fa1fe68-b915-4053-a3e1-c056e3a1b2c3',
    addresses: [
      'http://192.168.1.64/onvif/device_service',
      'http://[fe80::c256:e3ff:fea1:b2c3]/onvif/device_service',
    ],
    name: 'HIKVISION DS-2CD2143G2-I',
    hardware: 'DS-2CD2143G2-I',
    manufacturer: null,
    location: 'city/hangzhou',
  });
});

test('answers from one device are merged by endpoint; the probe asks for video transmitters', () => {
  const one = parseProbeMatches(fixture('hikvision-probe-match.xml'))[0]!;
  const merged = mergeDevices([one, { ...one, addresses: ['http://10.0.0.5/onvif/device_service'] }, one]);
  assert.equal(merged.length, 1);
  assert.equal(merged[0]?.addresses.length, 3);
  assert.match(probeMessage('x'), /<d:Types>dn:NetworkVideoTransmitter<\/d:Types>/);
});

test('GetSystemDateAndTime (Axis shape): the UTC clock', () => {
  assert.equal(parseSystemTime(body('axis-system-time.xml')), Date.UTC(2026, 11, 5, 7, 5, 9));
});

test('GetDeviceInformation (Hikvision shape)', () => {
  assert.deepEqual(parseDeviceInformation(body('hikvision-device-information.xml')), {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD2143G2-I',
    firmware: 'V5.7.3 build 220112',
    serial: 'DS-2CD2143G2-I20220301AAWRJ00000000',
    hardwareId: '88',
  });
});

test('GetServices (Dahua shape) and GetCapabilities (pre-2.0 device)', () => {
  assert.deepEqual(parseServices(body('dahua-services.xml')), {
    media: 'http://192.168.1.108/onvif/media_service',
    media2: 'http://192.168.1.108/onvif/media2_service',
    ptz: 'http://192.168.1.108/onvif/ptz_service',
    events: 'http://192.168.1.108/onvif/event_service',
  });
  assert.deepEqual(parseCapabilities(body('legacy-capabilities.xml')), {
    media: 'http://10.0.0.20/onvif/Media',
    media2: null,
    ptz: null,
    events: 'http://10.0.0.20/onvif/Events',
  });
});

test('service addresses are moved onto the device’s own host (NAT, and no credentials elsewhere)', () => {
  assert.equal(
    onDeviceOrigin('http://192.168.1.108/onvif/ptz_service', 'http://203.0.113.9:8080/onvif/device_service'),
    'http://203.0.113.9:8080/onvif/ptz_service',
  );
  assert.equal(onDeviceOrigin('not a url', 'http://h/'), null);
});

test('GetProfiles (Hikvision shape): encoder settings and PTZ; main/sub proposal', () => {
  const profiles = parseProfiles(body('hikvision-profiles.xml'));
  assert.deepEqual(profiles, [
    {
      token: 'Profile_1',
      name: 'mainStream',
      encoding: 'H264',
      width: 2560,
      height: 1440,
      fps: 25,
      bitrateKbps: 4096,
      ptz: true,
    },
    {
      token: 'Profile_2',
      name: 'subStream',
      encoding: 'H264',
      width: 640,
      height: 360,
      fps: 15,
      bitrateKbps: 512,
      ptz: false,
    },
  ]);
  const views = profiles.map((p, i) => ({
    ...p,
    streamUri: `rtsp://192.168.1.64/ch${i}`,
    snapshotUri: null,
  }));
  const proposal = proposeStreams([...views].reverse(), 'admin');
  assert.equal(proposal?.main.profile, 'Profile_1');
  assert.equal(proposal?.sub?.profile, 'Profile_2');
  assert.equal(proposeStreams([views[0]!], 'admin')?.sub, null, 'one profile: no sub');
  assert.equal(proposeStreams([{ ...views[0]!, streamUri: 'http://x/mjpeg' }], 'admin'), null, 'RTSP only');
});

test('GetStreamUri: the address with its query, entities decoded', () => {
  assert.equal(
    parseMediaUri(body('stream-uri.xml'), 'GetStreamUriResponse'),
    'rtsp://192.168.1.64:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1',
  );
});

test('a NotAuthorized fault is read as such', () => {
  assert.deepEqual(soapFault(body('not-authorized-fault.xml')), {
    code: 'env:Sender',
    subcode: 'NotAuthorized',
    reason: 'The action requested requires authorization and the sender is not authorized',
  });
  assert.equal(soapFault(body('stream-uri.xml')), null);
});

test('PullMessages (Axis shape): motion, digital input, tamper, line crossing', () => {
  const events = parseNotifications(body('axis-pull-messages.xml'), 'cam', 0);
  assert.deepEqual(
    events.map((e) => [e.kind, e.active, e.topic, e.timeMs]),
    [
      ['motion', true, 'VideoSource/MotionAlarm', Date.parse('2026-12-05T07:10:01.250Z')],
      ['motion', false, 'RuleEngine/CellMotionDetector/Motion', Date.parse('2026-12-05T07:10:01.500Z')],
      ['digital-input', true, 'Device/Trigger/DigitalInput', Date.parse('2026-12-05T07:10:01.750Z')],
      [
        'tamper',
        true,
        'VideoSource/GlobalSceneChange/ImagingService',
        Date.parse('2026-12-05T07:10:01.900Z'),
      ],
      ['line-crossing', true, 'RuleEngine/LineDetector/Crossed', Date.parse('2026-12-05T07:10:02.000Z')],
    ],
  );
  assert.equal(events[1]?.source['Rule'], 'MyMotionDetectorRule');
  assert.equal(eventKind('RuleEngine/TamperDetector/Tamper'), 'tamper');
  assert.equal(eventKind('Monitoring/ProcessorUsage'), 'other');
});

test('GetPresets: tokens and names', () => {
  assert.deepEqual(parsePresets(body('presets.xml')), [
    { token: '1', name: 'Gate & yard' },
    { token: '2', name: 'Door' },
  ]);
});

test('a typed address becomes the device service URL; credentials in it are refused', () => {
  assert.equal(deviceServiceUrl('192.168.1.64'), 'http://192.168.1.64/onvif/device_service');
  assert.equal(deviceServiceUrl('cam.local:8080'), 'http://cam.local:8080/onvif/device_service');
  assert.equal(deviceServiceUrl('https://h/onvif/dev'), 'https://h/onvif/dev');
  assert.throws(() => deviceServiceUrl('http://u:p@h/'), /not in the address/);
  assert.throws(() => deviceServiceUrl('http://[bad'), /neither a host/);
});
