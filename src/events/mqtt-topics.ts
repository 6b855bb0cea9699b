/**
 * MQTT topics and payloads, as pure functions (docs/ref/mqtt.md describes each). Everything
 * retained is state a subscriber needs on connect; events are not retained.
 */

/** A camera as MQTT and Home Assistant see it. */
export interface MqttCamera {
  id: string;
  name: string;
  /** The camera's detect.labels: one count sensor and one occupancy sensor each. */
  labels: readonly string[];
}

export interface MqttMessage {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
  qos: 0 | 1;
}

export interface MqttNames {
  topicPrefix: string;
  discoveryPrefix: string;
  /** Vigil's version, shown by Home Assistant on the device page. */
  version: string;
}

export const PAYLOAD_ONLINE = 'online';
export const PAYLOAD_OFFLINE = 'offline';
export const PAYLOAD_ON = 'ON';
export const PAYLOAD_OFF = 'OFF';

export const availabilityTopic = (prefix: string): string => `${prefix}/available`;
export const eventsTopic = (prefix: string): string => `${prefix}/events`;
/** Alerts of a camera's rules (src/rules), one message each, not retained. */
export const alertsTopic = (prefix: string, cameraId: string): string => `${prefix}/alerts/${cameraId}`;
export const motionTopic = (prefix: string, cameraId: string): string => `${prefix}/${cameraId}/motion`;
export const countTopic = (prefix: string, cameraId: string, label: string): string =>
  `${prefix}/${cameraId}/${label}`;
export const snapshotTopic = (prefix: string, cameraId: string): string => `${prefix}/${cameraId}/snapshot`;

/** Letters, digits and '_' only: what Home Assistant accepts in discovery topic levels and ids. */
export function discoveryId(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Person count, Car … */
function title(label: string): string {
  return label.charAt(0).toUpperCase() + label.slice(1);
}

const LABEL_ICONS: Readonly<Record<string, string>> = {
  person: 'mdi:account',
  bicycle: 'mdi:bicycle',
  car: 'mdi:car',
  motorcycle: 'mdi:motorbike',
  bus: 'mdi:bus',
  truck: 'mdi:truck',
  dog: 'mdi:dog',
  cat: 'mdi:cat',
  bird: 'mdi:bird',
  horse: 'mdi:horse',
};

interface DiscoveryEntity {
  component: 'binary_sensor' | 'sensor' | 'image';
  objectId: string;
  config: Record<string, unknown>;
}

function entities(prefix: string, camera: MqttCamera): DiscoveryEntity[] {
  const list: DiscoveryEntity[] = [
    {
      component: 'binary_sensor',
      objectId: 'motion',
      config: {
        name: 'Motion',
        state_topic: motionTopic(prefix, camera.id),
        payload_on: PAYLOAD_ON,
        payload_off: PAYLOAD_OFF,
        device_class: 'motion',
      },
    },
  ];
  for (const label of camera.labels) {
    const id = discoveryId(label);
    const icon = LABEL_ICONS[label];
    list.push({
      component: 'sensor',
      objectId: `${id}_count`,
      config: {
        name: `${title(label)} count`,
        state_topic: countTopic(prefix, camera.id, label),
        state_class: 'measurement',
        ...(icon ? { icon } : {}),
      },
    });
    list.push({
      component: 'binary_sensor',
      objectId: `${id}_occupancy`,
      config: {
        name: title(label),
        state_topic: countTopic(prefix, camera.id, label),
        // The count topic says how many; occupancy is "at least one".
        value_template: "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}",
        payload_on: PAYLOAD_ON,
        payload_off: PAYLOAD_OFF,
        device_class: 'occupancy',
        ...(icon ? { icon } : {}),
      },
    });
  }
  list.push({
    component: 'image',
    objectId: 'snapshot',
    config: {
      name: 'Last event',
      image_topic: snapshotTopic(prefix, camera.id),
      content_type: 'image/jpeg',
    },
  });
  return list;
}

function discoveryTopic(names: MqttNames, cameraId: string, entity: DiscoveryEntity): string {
  const node = discoveryId(`${names.topicPrefix}_${cameraId}`);
  return `${names.discoveryPrefix}/${entity.component}/${node}/${entity.objectId}/config`;
}

/** Home Assistant discovery: one device per camera with its motion, count, occupancy and image entities. */
export function discoveryMessages(names: MqttNames, camera: MqttCamera): MqttMessage[] {
  const node = discoveryId(`${names.topicPrefix}_${camera.id}`);
  const device = {
    identifiers: [node],
    name: camera.name,
    manufacturer: 'Vigil',
    model: 'Camera',
    sw_version: names.version,
  };
  return entities(names.topicPrefix, camera).map((entity) => ({
    topic: discoveryTopic(names, camera.id, entity),
    payload: JSON.stringify({
      ...entity.config,
      unique_id: `${node}_${entity.objectId}`,
      availability_topic: availabilityTopic(names.topicPrefix),
      payload_available: PAYLOAD_ONLINE,
      payload_not_available: PAYLOAD_OFFLINE,
      device,
      origin: { name: 'Vigil', sw_version: names.version },
    }),
    retain: true,
    qos: 1,
  }));
}

/**
 * What removes a camera from Home Assistant and the broker: an empty retained message on every
 * topic Vigil kept retained for it.
 */
export function removalMessages(names: MqttNames, camera: MqttCamera): MqttMessage[] {
  const prefix = names.topicPrefix;
  const topics = [
    ...entities(prefix, camera).map((entity) => discoveryTopic(names, camera.id, entity)),
    motionTopic(prefix, camera.id),
    snapshotTopic(prefix, camera.id),
    ...camera.labels.map((label) => countTopic(prefix, camera.id, label)),
  ];
  return topics.map((topic) => ({ topic, payload: '', retain: true, qos: 1 }));
}
