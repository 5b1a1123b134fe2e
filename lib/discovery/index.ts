/** WS-Discovery client (issue 3): probe, resolve, and listen for Hello/Bye from ONVIF devices. */
export type { ProfileQState } from '../device/types';
export {
  parseDiscoveryMessage,
  canonicalEndpoint,
  buildProbe,
  buildResolve,
  newMessageId,
  ONVIF_TYPES,
  DISCOVERY_MULTICAST_ADDRESS,
  DISCOVERY_PORT,
  type DiscoveredDevice,
  type DiscoveryMessage,
  type DiscoveryMessageKind,
} from './messages';
export { parseScopes, percentDecode, scopesMatch, type ScopeSummary } from './scopes';
export { splitXAddrs, rankXAddrs, localNetworks, type LocalNetwork } from './xaddrs';
export { expandTargets, selectInterfaces, MAX_TARGET_PREFIX, type UnicastTarget, type ProbeInterface } from './targets';
export { probe, probe$, resolve, DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_PROBE_REPEATS, type ProbeOptions } from './probe';
export { DiscoveryListener, type PresenceEvent, type DiscoveryListenerOptions } from './listener';
export { PresenceRegistry, type PresenceChange } from './presence';
