export * from './types';
export * from './address';
export * from './readers';
export { OnvifDevice, type CallOptions, type CallParams, type WaitForRestartOptions } from './onvif-device';
export type { RestartKind } from './follow';
