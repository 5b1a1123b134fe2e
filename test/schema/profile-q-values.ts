/** Hand-written request values for the Profile Q operations, the way a flow author would write them. */
import { NS } from '../../lib/xml/namespaces';

export const PROFILE_Q_REQUESTS: Record<string, unknown> = {
  'device.CreateUsers': {
    User: [
      { Username: 'operator1', Password: 'Secret-1', UserLevel: 'Operator' },
      { UserLevel: 'User', Username: 'viewer', Password: 'Secret-2' },
    ],
  },
  'device.SetUser': { User: [{ Username: 'operator1', Password: 'NewSecret-1', UserLevel: 'Administrator' }] },
  'device.DeleteUsers': { Username: ['operator1', 'viewer'] },
  'device.SetHostname': { Name: 'camera-lobby' },
  'device.SetDNS': {
    SearchDomain: ['example.org', 'lab.example.org'],
    FromDHCP: false,
    DNSManual: [
      { Type: 'IPv4', IPv4Address: '192.0.2.53' },
      { IPv6Address: '2001:db8::53', Type: 'IPv6' },
    ],
  },
  'device.SetNTP': { NTPManual: [{ Type: 'DNS', DNSname: 'pool.ntp.org' }, { Type: 'IPv4', IPv4Address: '192.0.2.123' }], FromDHCP: 'false' },
  'device.SetNetworkInterfaces': {
    InterfaceToken: 'eth0',
    NetworkInterface: {
      Enabled: true,
      MTU: 1500,
      Link: { Duplex: 'Full', AutoNegotiation: true, Speed: 100 },
      IPv4: { Enabled: true, DHCP: false, Manual: [{ Address: '192.0.2.10', PrefixLength: 24 }] },
    },
  },
  'device.SetNetworkProtocols': {
    NetworkProtocols: [
      { Name: 'HTTP', Enabled: true, Port: [80, 8080] },
      { Name: 'HTTPS', Enabled: 'true', Port: [443] },
      { Port: 554, Enabled: false, Name: 'RTSP' },
    ],
  },
  'device.SetNetworkDefaultGateway': { IPv4Address: ['192.0.2.1'], IPv6Address: [] },
  'device.SetZeroConfiguration': { Enabled: false, InterfaceToken: 'eth0' },
  'device.SetSystemDateAndTime': {
    UTCDateTime: '2025-03-04T05:06:07Z',
    TimeZone: { TZ: 'CET-1CEST,M3.5.0,M10.5.0/3' },
    DaylightSavings: true,
    DateTimeType: 'Manual',
  },
  'device.SetSystemFactoryDefault': { FactoryDefault: 'Soft' },
  'device.SetScopes': { Scopes: ['onvif://www.onvif.org/name/Lobby%20Camera', 'onvif://www.onvif.org/location/building/main'] },
  'device.AddScopes': { ScopeItem: ['onvif://www.onvif.org/location/floor/2'] },
  'device.RemoveScopes': { ScopeItem: ['onvif://www.onvif.org/location/floor/2'] },
  'device.GetServices': { IncludeCapability: true },
  'device.StartFirmwareUpgrade': {},
  'device.StartSystemRestore': {},
  'device.GetSystemUris': {},
  'events.CreatePullPointSubscription': {
    InitialTerminationTime: 'PT60S',
    Filter: {
      TopicExpression: {
        Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet',
        value: 'tns1:Device/Trigger//.|tns1:Monitoring//.',
      },
    },
  },
  'pullpoint.PullMessages': { MessageLimit: 10, Timeout: 'PT5S' },
  'subscription.Renew': { TerminationTime: 'PT120S' },
  'subscription.Unsubscribe': {},
  'appmgmt.GetAppsInfo': { AppID: 'com.example.app1' },
};

/** Namespaces a correct request for these operations must use for its body element. */
export const BODY_NS: Record<string, string> = {
  device: NS.tds,
  events: NS.tev,
  pullpoint: NS.tev,
  subscription: NS.wsnt,
  appmgmt: NS.ans,
};
