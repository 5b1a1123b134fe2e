/** The long-lived connection a config node owns: backoff, auth-failure stop, the shared event hub. */
export { DeviceLink, type LinkState, type LinkStatus, type DeviceLinkOptions, type BackoffOptions } from './link';
