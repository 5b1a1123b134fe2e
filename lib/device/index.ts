export * from './types';
export * from './address';
export * from './readers';
export { OnvifDevice, type CallOptions } from './onvif-device';
export { DeviceLink, type LinkState, type LinkStatus, type DeviceLinkOptions, type BackoffOptions } from './link';
