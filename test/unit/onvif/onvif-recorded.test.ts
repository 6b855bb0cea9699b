/**
 * The ONVIF parsers against answers recorded from real cameras (test/fixtures/onvif/README.md,
 * "Recorded from real devices"): Milesight, Hikvision and Axis, byte for byte as they sent them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  parseDeviceInformation,
  parseNotifications,
  parseSubscription,
  parseSystemTime,
  soapBody,
  soapFault,
} from '../../../src/onvif/parse.js';
import { REPO_ROOT } from '../../helpers/vigil.js';

const recorded = (name: string) =>
  soapBody(readFileSync(`${REPO_ROOT}/test/fixtures/onvif/recorded/${name}`, 'utf8'));

test('Milesight MS-C8165-PE: device information', () => {
  const body = recorded('milesight-ms-c8165-device-information.xml');
  assert.equal(soapFault(body), null);
  assert.deepEqual(parseDeviceInformation(body), {
    manufacturer: 'Milesight Technology Co.,Ltd.',
    model: 'MS-C8165-PE',
    firmware: '61.8.0.3-r8',
    serial: 'EM82V102329001403',
    hardwareId: 'V1.0',
  });
});

test('Axis: the UTC time, not the local one, whatever the POSIX time zone says', () => {
  assert.equal(parseSystemTime(recorded('axis-system-date-and-time.xml')), Date.UTC(2024, 6, 9, 19, 49, 6));
});

test('Hikvision: a pull-point subscription with wsnt times next to the tev reference', () => {
  assert.deepEqual(parseSubscription(recorded('hikvision-create-pull-point-subscription.xml')), {
    address: 'http://192.168.8.120/onvif/Events/PullSubManager_20250415T164937Z_0',
    terminationTimeMs: Date.parse('2025-04-15T16:50:37Z'),
  });
});

test('Hikvision: the first pull after subscribing is the state of every property, none an event', () => {
  const events = parseNotifications(recorded('hikvision-pull-messages.xml'), 'hik', 0);
  assert.deepEqual(
    events.map((e) => [e.kind, e.active, e.topic, e.initial]),
    [
      ['motion', false, 'VideoSource/MotionAlarm', true],
      ['motion', false, 'RuleEngine/CellMotionDetector/Motion', true],
      ['tamper', false, 'RuleEngine/TamperDetector/Tamper', true],
      ['other', false, 'VideoSource/ImageTooDark/ImagingService', true],
      ['other', false, 'RuleEngine/FieldDetector/ObjectsInside', true],
      ['other', true, 'Monitoring/OperatingTime/LastReset', true],
      ['other', true, 'Monitoring/OperatingTime/LastReboot', true],
      ['other', true, 'Monitoring/OperatingTime/LastClockSynchronization', true],
    ],
  );
  assert.ok(events.every((e) => e.timeMs === Date.parse('2025-04-18T20:34:05Z')));
  assert.equal(events[2]?.source['Rule'], 'MyTamperDetectorRule');
});
