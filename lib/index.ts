/**
 * @onvifq/node-red-onvif as a library, usable without Node-RED:
 *
 *   const device = new OnvifDevice({ address: '192.168.1.20', username: 'admin', password: '...' });
 *   await device.connect();
 *   const info = await device.call('GetDeviceInformation');
 *   await device.close();
 */
export * from './errors';
export * from './device';
export * from './link';
export * from './discovery';
export * from './events';
export * from './configure';
export * from './transfer';
export * from './xml';
export { buildEnvelope, parseEnvelope, type ParsedEnvelope } from './soap/envelope';
export { parseFault, describeFault, setPreferredLanguage, getPreferredLanguage, chooseReason, type SoapFault } from './soap/fault';
export type { AuthMode, AuthMethodInUse, TlsOptions } from './transport/types';
export {
  WIRE_TRACE_CHANNEL,
  subscribeWireTrace,
  formatWireTrace,
  type WireTraceMessage,
  type WireTraceRequest,
  type WireTraceAnswer,
  type WireTraceFailure,
} from './transport/trace';
/** Per-operation request and result types of `OnvifDevice.call`, and every schema type they use (`OnvifTypes.TtUser`). */
export type { OnvifOperations, OperationName, OperationRequest, OperationResult } from './schema/onvif-types';
export type * as OnvifTypes from './schema/onvif-types';
export type { Clock, TimerHandle } from './util/clock';
export * from './firmware';
export * from './tls';
export * from './apps';
