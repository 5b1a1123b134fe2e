/** Operation catalogue from the WSDL bindings in the model, indexed once. */
import { NS } from '../xml/namespaces';
import { MODEL, splitModelName } from './compiled';

export type ServiceName = 'device' | 'events' | 'pullpoint' | 'subscription' | 'appmgmt' | 'advancedsecurity';

export interface OperationInfo {
  name: string;
  service: ServiceName;
  /** namespace of the service that hosts it (its XAddr in GetServices), e.g. NS.tds; NS.tev for all event endpoints */
  namespace: string;
  input: { ns: string; local: string };
  output: { ns: string; local: string };
  /** SOAP action from the WSDL binding */
  action: string;
}

const SERVICE_NS: Record<ServiceName, string> = {
  device: NS.tds,
  events: NS.tev,
  pullpoint: NS.tev,
  subscription: NS.tev,
  appmgmt: NS.ans,
  advancedsecurity: NS.tas,
};

/** Lookup order for a bare name: device first, then events, appmgmt, advanced security. */
export const SERVICE_ORDER: readonly ServiceName[] = ['device', 'events', 'pullpoint', 'subscription', 'appmgmt', 'advancedsecurity'];

/** What a qualifier (`tds:`, `events.`) selects. */
const QUALIFIER: Record<string, ServiceName[]> = {
  tds: ['device'],
  device: ['device'],
  tev: ['events', 'pullpoint', 'subscription'],
  events: ['events', 'pullpoint', 'subscription'],
  wsnt: ['subscription', 'pullpoint', 'events'],
  pullpoint: ['pullpoint'],
  subscription: ['subscription'],
  ans: ['appmgmt'],
  appmgmt: ['appmgmt'],
  tas: ['advancedsecurity'],
  advancedsecurity: ['advancedsecurity'],
};

const ALL: OperationInfo[] = MODEL.operations.map(([service, name, input, output, action]) =>
  Object.freeze({
    name,
    service,
    namespace: SERVICE_NS[service],
    input: Object.freeze(splitModelName(input)),
    output: Object.freeze(splitModelName(output)),
    action,
  }),
);

const byService = new Map<ServiceName, Map<string, OperationInfo>>();
for (const s of SERVICE_ORDER) byService.set(s, new Map());
for (const op of ALL) if (!byService.get(op.service)!.has(op.name)) byService.get(op.service)!.set(op.name, op);

function lookup(services: readonly ServiceName[], name: string): OperationInfo | undefined {
  for (const s of services) {
    const op = byService.get(s)!.get(name);
    if (op) return op;
  }
  return undefined;
}

/**
 * Find an operation: `GetUsers` (device service first, then events, appmgmt, advanced security),
 * `tds:GetUsers`, `tev:GetServiceCapabilities`, `ans:GetServiceCapabilities`, `device.GetUsers`,
 * `events.PullMessages`. Names are case-sensitive.
 */
export function findOperation(name: string): OperationInfo | undefined {
  if (typeof name !== 'string') return undefined;
  const m = /^([A-Za-z]+)[:.]([A-Za-z0-9_]+)$/.exec(name);
  if (m) {
    const services = Object.hasOwn(QUALIFIER, m[1]) ? QUALIFIER[m[1]] : undefined; // not `constructor.GetUsers` → Object
    return services ? lookup(services, m[2]) : undefined;
  }
  return lookup(SERVICE_ORDER, name);
}

/** All operations, or those of one service, in WSDL order. */
export function listOperations(service?: ServiceName): OperationInfo[] {
  return service ? ALL.filter((o) => o.service === service) : ALL.slice();
}
