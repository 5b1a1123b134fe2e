export * from './types';
export * from './address';
export * from './readers';
export { OnvifDevice, type CallOptions, type CallParams, type WaitForRestartOptions } from './onvif-device';
export type { RestartKind } from './follow';
export { DeviceLink, type LinkState, type LinkStatus, type DeviceLinkOptions, type BackoffOptions } from './link';
