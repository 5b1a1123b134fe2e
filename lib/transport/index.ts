export * from './types';
export { SoapClient } from './client';
export {
  parseDigestChallenges,
  parseAuthChallenges,
  chooseDigestChallenge,
  computeDigestResponse,
  DigestSession,
  type AuthChallenge,
  type DigestInput,
} from './digest';
export { passwordDigest, usernameTokenHeader, createdTimestamp } from './wsse';
export { faultMessage, faultHint } from './messages';
export { WIRE_TRACE_CHANNEL, subscribeWireTrace, formatWireTrace, type WireTraceMessage } from './trace';
