import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  availabilityTopic,
  countTopic,
  discoveryId,
  discoveryMessages,
  eventsTopic,
  motionTopic,
  removalMessages,
  snapshotTopic,
} from '../../../src/events/mqtt-topics.js';

const names = { topicPrefix: 'vigil', discoveryPrefix: 'homeassistant', version: '0.1.0' };
const camera = { id: 'front-door', name: 'Front door', labels: ['person', 'car'] };

function configs() {
  return new Map(
    discoveryMessages(names, camera).map((m) => [
      m.topic,
      JSON.parse(String(m.payload)) as Record<string, unknown>,
    ]),
  );
}

test('state topics', () => {
  assert.equal(availabilityTopic('vigil'), 'vigil/available');
  assert.equal(eventsTopic('site/a'), 'site/a/events');
  assert.equal(motionTopic('vigil', 'front-door'), 'vigil/front-door/motion');
  assert.equal(countTopic('vigil', 'front-door', 'person'), 'vigil/front-door/person');
  assert.equal(snapshotTopic('vigil', 'front-door'), 'vigil/front-door/snapshot');
  assert.equal(discoveryId('site/a_Front-Door'), 'site_a_front_door');
});

test('discovery: one device per camera with motion, counts, occupancy and the snapshot image', () => {
  const all = configs();
  assert.deepEqual(
    [...all.keys()],
    [
      'homeassistant/binary_sensor/vigil_front_door/motion/config',
      'homeassistant/sensor/vigil_front_door/person_count/config',
      'homeassistant/binary_sensor/vigil_front_door/person_occupancy/config',
      'homeassistant/sensor/vigil_front_door/car_count/config',
      'homeassistant/binary_sensor/vigil_front_door/car_occupancy/config',
      'homeassistant/image/vigil_front_door/snapshot/config',
    ],
  );
  for (const config of all.values()) {
    assert.equal(config['availability_topic'], 'vigil/available');
    assert.equal(config['payload_available'], 'online');
    assert.equal(config['payload_not_available'], 'offline');
    assert.deepEqual(config['device'], {
      identifiers: ['vigil_front_door'],
      name: 'Front door',
      manufacturer: 'Vigil',
      model: 'Camera',
      sw_version: '0.1.0',
    });
    assert.match(String(config['unique_id']), /^vigil_front_door_[a-z_]+$/);
  }
  const motion = all.get('homeassistant/binary_sensor/vigil_front_door/motion/config')!;
  assert.equal(motion['state_topic'], 'vigil/front-door/motion');
  assert.equal(motion['device_class'], 'motion');
  assert.deepEqual([motion['payload_on'], motion['payload_off']], ['ON', 'OFF']);
  const count = all.get('homeassistant/sensor/vigil_front_door/person_count/config')!;
  assert.equal(count['state_topic'], 'vigil/front-door/person');
  assert.equal(count['state_class'], 'measurement');
  const occupancy = all.get('homeassistant/binary_sensor/vigil_front_door/person_occupancy/config')!;
  assert.equal(occupancy['state_topic'], 'vigil/front-door/person');
  assert.equal(occupancy['device_class'], 'occupancy');
  assert.match(String(occupancy['value_template']), /int\(0\)\) > 0/);
  const image = all.get('homeassistant/image/vigil_front_door/snapshot/config')!;
  assert.equal(image['image_topic'], 'vigil/front-door/snapshot');
  assert.equal(image['content_type'], 'image/jpeg');
  const ids = [...all.values()].map((c) => c['unique_id']);
  assert.equal(new Set(ids).size, ids.length, 'unique ids are unique');
  assert.ok(discoveryMessages(names, camera).every((m) => m.retain));
});

test('two Vigils on one broker (different prefixes) get different ids', () => {
  const other = discoveryMessages({ ...names, topicPrefix: 'barn' }, camera);
  const mine = new Set(discoveryMessages(names, camera).map((m) => m.topic));
  assert.ok(other.every((m) => !mine.has(m.topic)));
});

test('removal clears every retained topic of the camera with an empty message', () => {
  const removal = removalMessages(names, camera);
  assert.ok(removal.every((m) => m.payload === '' && m.retain));
  const topics = removal.map((m) => m.topic);
  for (const topic of configs().keys()) assert.ok(topics.includes(topic), topic);
  for (const topic of ['vigil/front-door/motion', 'vigil/front-door/person', 'vigil/front-door/snapshot']) {
    assert.ok(topics.includes(topic), topic);
  }
});
