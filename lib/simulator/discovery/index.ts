/**
 * The simulated device's WS-Discovery (ONVIF Core §7): messages.ts reads and builds the messages,
 * sockets.ts shares the UDP sockets of every device in the process, responder.ts is one device's
 * target service (matching, random waits, Hello/Bye); service.ts plugs it into the device.
 */
export {
  scopeMatches, parseDiscoveryRequest, WSD_PORT, WSD_MULTICAST_ADDRESS, MATCH_BY_RFC3986, MATCH_BY_RFC2396, MATCH_BY_STRCMP0,
  SUPPORTED_MATCHING_RULES, byeMessage, helloMessage, matchingRuleFaultMessage, probeMatchesMessage, resolveMatchesMessage,
  type DiscoveryRequest, type DeviceDescription,
} from './messages';
export { APP_MAX_DELAY_MS, canDiscoverOn, DiscoveryResponder, type DiscoverableDevice, type DiscoveryResponderOptions } from './responder';
export { DiscoveryService, type DiscoveryServiceOptions } from './service';
