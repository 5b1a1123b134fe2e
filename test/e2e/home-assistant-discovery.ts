/**
 * What Home Assistant's MQTT integration accepts in a discovery message, for the components the Home Assistant
 * example uses: the configuration variables of binary_sensor.mqtt, sensor.mqtt and button.mqtt, the shared
 * entity variables, and the device and origin maps (from the integration's documentation). Home Assistant drops a
 * discovery message with an unknown key, a missing required key or a value of the wrong kind, and logs why;
 * this check does the same, so a test fails where Home Assistant would silently show no entity.
 */

const ENTITY_KEYS = [
  'availability', 'availability_mode', 'availability_template', 'availability_topic', 'default_entity_id', 'device',
  'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'icon', 'json_attributes_template',
  'json_attributes_topic', 'name', 'object_id', 'origin', 'payload_available', 'payload_not_available', 'platform', 'qos',
  'unique_id',
];

interface ComponentRules {
  required: string[];
  allowed: string[];
  deviceClasses?: string[];
  entityCategories: string[];
}

export const COMPONENTS: Record<string, ComponentRules> = {
  binary_sensor: {
    required: ['state_topic'],
    allowed: ['device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on', 'state_topic', 'value_template'],
    deviceClasses: ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat',
      'light', 'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running',
      'safety', 'smoke', 'sound', 'tamper', 'update', 'vibration', 'window'],
    entityCategories: ['config', 'diagnostic'],
  },
  sensor: {
    required: ['state_topic'],
    allowed: ['device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'state_class', 'state_topic',
      'suggested_display_precision', 'unit_of_measurement', 'value_template'],
    // A sensor cannot be a configuration entity (Home Assistant refuses entity_category "config" for sensors).
    entityCategories: ['diagnostic'],
  },
  button: {
    required: ['command_topic'],
    allowed: ['command_template', 'command_topic', 'device_class', 'payload_press', 'retain'],
    deviceClasses: ['identify', 'restart', 'update'],
    entityCategories: ['config', 'diagnostic'],
  },
};

const DEVICE_KEYS = ['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name',
  'serial_number', 'suggested_area', 'sw_version', 'via_device'];
const ORIGIN_KEYS = ['name', 'sw_version', 'support_url'];
const AVAILABILITY_KEYS = ['payload_available', 'payload_not_available', 'topic', 'value_template'];
const STRING_KEYS = ['name', 'unique_id', 'icon', 'state_topic', 'command_topic', 'payload_on', 'payload_off', 'payload_press',
  'unit_of_measurement', 'device_class', 'state_class', 'availability_topic', 'payload_available', 'payload_not_available',
  'value_template', 'object_id', 'default_entity_id', 'entity_category'];

/** `<prefix>/<component>/[<node_id>/]<object_id>/config`, ids of letters, digits, _ and -. */
const DISCOVERY_TOPIC = /^homeassistant\/([a-z_]+)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/;

const isMqttTopic = (t: unknown) => typeof t === 'string' && t.length > 0 && !/[#+]/.test(t);

/** Every problem Home Assistant would have with this discovery message ([] = accepted). */
export function discoveryProblems(topic: string, payloadText: string): string[] {
  const problems: string[] = [];
  const m = DISCOVERY_TOPIC.exec(topic);
  if (!m) return [`${topic}: not a discovery topic <prefix>/<component>/[<node_id>/]<object_id>/config`];
  const component = m[1]!;
  const rules = COMPONENTS[component];
  if (!rules) return [`${topic}: component ${component} is not one this check knows`];
  let config: Record<string, any>;
  try {
    config = JSON.parse(payloadText);
  } catch {
    return [`${topic}: the payload is not JSON`];
  }
  const say = (s: string) => problems.push(`${topic}: ${s}`);
  const allowed = new Set([...ENTITY_KEYS, ...rules.allowed]);
  for (const k of Object.keys(config)) if (!allowed.has(k)) say(`"${k}" is not a ${component} configuration variable`);
  for (const k of rules.required) if (!isMqttTopic(config[k])) say(`required "${k}" is missing or not a topic`);
  for (const k of STRING_KEYS) if (k in config && typeof config[k] !== 'string') say(`"${k}" must be a string`);
  if (rules.deviceClasses && config.device_class !== undefined && !rules.deviceClasses.includes(config.device_class)) {
    say(`device_class "${config.device_class}" is not a ${component} device class`);
  }
  if (config.entity_category !== undefined && !rules.entityCategories.includes(config.entity_category)) {
    say(`entity_category "${config.entity_category}" is not allowed for a ${component}`);
  }
  if (config.state_class !== undefined && !['measurement', 'measurement_angle', 'total', 'total_increasing'].includes(config.state_class)) {
    say(`state_class "${config.state_class}" is not a state class`);
  }
  if (config.qos !== undefined && ![0, 1, 2].includes(config.qos)) say('qos must be 0, 1 or 2');
  if (config.suggested_display_precision !== undefined && !Number.isInteger(config.suggested_display_precision)) say('suggested_display_precision must be an integer');
  if (config.availability !== undefined && config.availability_topic !== undefined) say('"availability" and "availability_topic" exclude each other');
  if (config.availability !== undefined) {
    if (!Array.isArray(config.availability) || config.availability.length === 0) say('"availability" must be a non-empty list');
    else {
      for (const a of config.availability) {
        for (const k of Object.keys(a)) if (!AVAILABILITY_KEYS.includes(k)) say(`availability item key "${k}" is unknown`);
        if (!isMqttTopic(a.topic)) say('every availability item needs a topic');
      }
    }
  }
  if (config.availability_mode !== undefined && !['all', 'any', 'latest'].includes(config.availability_mode)) say('availability_mode must be all, any or latest');
  if (config.device !== undefined) {
    const d = config.device;
    // Home Assistant ties an entity to a device only when it has a unique_id.
    if (typeof config.unique_id !== 'string' || !config.unique_id) say('a device needs the entity to have a unique_id');
    for (const k of Object.keys(d)) if (!DEVICE_KEYS.includes(k)) say(`device key "${k}" is unknown`);
    const ids = d.identifiers;
    const hasIds = (typeof ids === 'string' && ids) || (Array.isArray(ids) && ids.length > 0 && ids.every((i: unknown) => typeof i === 'string' && i));
    if (!hasIds && !(Array.isArray(d.connections) && d.connections.length)) say('device needs identifiers or connections');
    for (const k of ['name', 'manufacturer', 'model', 'sw_version', 'hw_version', 'serial_number', 'configuration_url']) {
      if (k in d && (typeof d[k] !== 'string' || !d[k])) say(`device ${k} must be a non-empty string`);
    }
    if (d.configuration_url !== undefined && !/^(https?:\/\/|homeassistant:\/\/)/.test(d.configuration_url)) say('device configuration_url must be a URL');
  }
  if (config.origin !== undefined) {
    for (const k of Object.keys(config.origin)) if (!ORIGIN_KEYS.includes(k)) say(`origin key "${k}" is unknown`);
    if (typeof config.origin.name !== 'string' || !config.origin.name) say('origin needs a name');
  }
  return problems;
}
