/**
 * Events (Core ch. 9): one shared pull-point subscription per device (EventHub), notification parsing
 * with canonical topics and typed items, and ConcreteSet topic filters.
 */
export { EventHub, type EventHubOptions, type EventStreamState, type EventStreamStatus } from './hub';
export {
  lenientBoolean,
  parseNotification,
  parseNotifications,
  readEventTypes,
  topicKey,
  type EventTypes,
  type ItemType,
  type OnvifEvent,
  type PropertyOperation,
} from './notifications';
export { PullPoint, isResourceUnknown, parseDuration, pullLimits, reachableSubscriptionUrl, readLeaseTimes, type LeaseTimes } from './pull-point';
export { TOPIC_PREFIXES, canonicalTopic, compileTopicFilter, topicMatches, type TopicFilter } from './topics';
export { EventSelection, type SelectionOptions } from './selection';
export { getEventProperties, listEventTopics, readTopicSet, type TopicInfo, type TopicItem } from './topic-set';
