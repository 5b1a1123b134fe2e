import type { AuthMethodInUse, TransportOptions } from '../transport/types';

/** Credentials, auth mode, TLS and limits as the transport takes them; the clock is the session's business. */
export interface OnvifDeviceOptions
  extends Pick<TransportOptions, 'username' | 'password' | 'auth' | 'allowBasic' | 'timeoutMs' | 'maxResponseBytes' | 'tls' | 'traceLabel'> {
  /** host, host:port, http(s)://host[:port], or a full device-service XAddr. */
  address: string;
  /** A label for messages (the config node's name). */
  name?: string;
}

export type ProfileQState = 'FactoryDefault' | 'Operational' | 'Unknown';

/** One service from GetServices (or synthesised from GetCapabilities on old firmware). */
export interface ServiceInfo {
  namespace: string;
  /** Reachable address: host/port rewritten to the configured host when the device named one we cannot reach. */
  xaddr: string;
  /** The address exactly as the device reported it. */
  reportedXaddr: string;
  version: { major: number; minor: number };
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

/** Device-service capabilities, typed (from GetServices' capabilities or GetServiceCapabilities / GetCapabilities). */
export interface DeviceCapabilities {
  network: {
    ipFilter?: boolean; zeroConfiguration?: boolean; ipVersion6?: boolean; dynDNS?: boolean; dot11Configuration?: boolean;
    hostnameFromDHCP?: boolean; ntp?: number; dhcpv6?: boolean;
  };
  security: {
    tls1_0?: boolean; tls1_1?: boolean; tls1_2?: boolean; onboardKeyGeneration?: boolean; accessPolicyConfig?: boolean;
    defaultAccessPolicy?: boolean; dot1x?: boolean; remoteUserHandling?: boolean; x509Token?: boolean; samlToken?: boolean;
    kerberosToken?: boolean; usernameToken?: boolean; httpDigest?: boolean; relToken?: boolean; jsonWebToken?: boolean;
    supportedEAPMethods?: number[]; maxUsers?: number; maxUserNameLength?: number; maxPasswordLength?: number;
    securityPolicies?: string[]; maxPasswordHistory?: number; hashingAlgorithms?: string[];
  };
  system: {
    discoveryResolve?: boolean; discoveryBye?: boolean; remoteDiscovery?: boolean; systemBackup?: boolean; systemLogging?: boolean;
    firmwareUpgrade?: boolean; httpFirmwareUpgrade?: boolean; httpSystemBackup?: boolean; httpSystemLogging?: boolean;
    httpSupportInformation?: boolean; storageConfiguration?: boolean; maxStorageConfigurations?: number;
    geoLocationEntries?: number; autoGeo?: string[]; storageTypesSupported?: string[]; discoveryNotSupported?: boolean;
    networkConfigNotSupported?: boolean; userConfigNotSupported?: boolean; addons?: string[];
  };
}

/** A session field that connect could not read (see PartialSession). */
export type UnreadSessionField = 'clockOffsetMs' | 'services' | 'capabilities' | 'scopes' | 'profileQState' | 'deviceInformation';

/**
 * Connected without credentials, and the device refused some of the connect reads (most protect GetScopes and
 * GetDeviceInformation; Core's default policy serves only PRE_AUTH operations anonymously). The session still
 * serves whatever the device answers anonymously; the unread fields hold placeholders (empty lists and
 * strings, profileQState 'Unknown', clock offset 0).
 */
export interface PartialSession {
  /** The connect reads the device refused, e.g. ['GetScopes', 'GetDeviceInformation']. */
  refused: string[];
  /** The session fields those reads would have filled. */
  unknown: UnreadSessionField[];
  /** What is unknown and what to do, in plain words. */
  text: string;
}

export interface SessionInfo {
  /** The device-service URL used. */
  xaddr: string;
  /** urn:uuid endpoint reference when known (GetEndpointReference, or discovery). */
  endpoint?: string;
  services: ServiceInfo[];
  capabilities: DeviceCapabilities;
  scopes: string[];
  profileQState: ProfileQState;
  deviceInformation: DeviceInformation;
  /** Device clock minus local clock, ms. */
  clockOffsetMs: number;
  /** The auth method that worked, e.g. `digest-SHA-256`, `ws-security`, `none`. */
  authMethod: AuthMethodInUse;
  /** true when the services came from GetCapabilities because GetServices failed. */
  legacyCapabilities: boolean;
  connectedAt: string;
  /** Set when the session has no credentials and the device refused some connect reads; absent when all was read. */
  partial?: PartialSession;
}

/**
 * Something the session did on its own because of what a call changed (nodes show it as a warning or status).
 * `text` is a plain sentence for people and never contains a password.
 */
export interface SessionChange {
  kind: 'credentials-changed' | 'clock-remeasured' | 'restarting' | 'reconnected' | 'moved';
  text: string;
  /** moved: where the device went (URL of its device service); reconnected: where it is. */
  address?: string;
}
