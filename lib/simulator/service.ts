import type { IncomingMessage } from 'node:http';
import type { XmlNode } from '../xml/build';
import type { XmlElement } from '../xml/parse';
import type { AccessClass } from './access';
import type { SimFault } from './faults';

/**
 * One service of the simulated device, plugged into the one SimulatorServer the way the client's service
 * facades share one SoapClient. The server does what every service needs: the HTTP listener, routing by
 * path, SOAP parsing, authentication and the access policy, fault injection, latency and the request log.
 * A service brings its operations (with their access classes), its plain HTTP routes (uploads, downloads)
 * and what it does when the device starts, stops, reboots or changes.
 *
 * Adding one (e.g. firmware):
 * 1. Write a module (lib/simulator/firmware/service.ts) with a factory `firmwareService(host)` returning a
 *    SimulatedService; `host` is a small interface naming what it needs from the device (state, clock,
 *    reboot...), as DeviceServiceHost and TransferHost do.
 * 2. Register it in SimulatedDevice's constructor (device.ts, the `services` list). With a `listing`, its
 *    endpoint appears in GetServices.
 * Hooks run in the order the services are registered.
 */
export interface SimulatedService {
  readonly name: string;
  /** SOAP endpoints (a service and, e.g., its subscription managers). */
  readonly endpoints?: readonly SoapEndpoint[];
  /** Plain HTTP routes: file downloads and uploads, state pages. */
  readonly routes?: readonly HttpRoute[];
  /** Power on, in start(); a throw fails the start. */
  onStart?(): Promise<void> | void;
  /** Power off, in stop(). */
  onStop?(): Promise<void> | void;
  /** Going away for a reboot (also after SetSystemFactoryDefault and a restore). */
  onReboot?(): void;
  /** Back after a reboot, listening again. */
  onReady?(): void;
  /** The device state changed and was saved: `what` is e.g. 'time', 'ntp', 'restore', 'factoryDefault:Hard'. */
  onChange?(what: string): void;
}

/** Handles one SOAP operation: the Body's element in, the response element out; throws a SimFault to refuse. */
export type OperationHandler = (request: XmlElement, call: SoapCall) => XmlNode | Promise<XmlNode>;

/** SOAP operations at one or more paths. */
export interface SoapEndpoint {
  /** Does a request to this path belong here? */
  at(path: string): boolean;
  /** Namespaces of its operations; a Body element in another (declared) namespace is not one of them. Absent: any. */
  readonly namespaces?: readonly string[];
  /** Operations by local name. */
  readonly operations: Readonly<Record<string, OperationHandler>>;
  /** Access class (Core §5.9.4.3) of an operation, also of one it lacks (unknown operations still need an authenticated caller). */
  accessClass(operation: string): AccessClass;
  /** The fault for an operation it lacks (may throw another one first, e.g. for an unknown subscription). */
  unsupported(operation: string, call: SoapCall): SimFault;
  /** What GetServices says about this endpoint (the device service lists itself). */
  readonly listing?: ServiceListing;
}

export interface ServiceListing {
  namespace: string;
  /** Path of the endpoint; the XAddr is this under the address the caller used. */
  path: string;
  version: { major: number; minor: number };
  capabilities(): XmlNode;
}

/** One SOAP request, as a handler sees it. */
export interface SoapCall {
  /** The SOAP Header, for reference parameters and the like. */
  header?: XmlElement;
  path: string;
  /** 'http://host:port' as the caller reached the device (Host header), so addresses work behind NAT too. */
  baseUrl: string;
  /** Aborted when the caller hangs up (ends a waiting PullMessages). */
  signal: AbortSignal;
  /** Run after the response has gone out (reboot, factory reset). */
  afterResponse(action: () => void): void;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | Buffer;
  /** Run after the response has gone out. */
  after?: Array<() => void>;
}

/** Where a request's log entry comes from (SimulatedDevice.requests). */
export interface SimulatedRequest {
  time: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Request body with the content of every Password element replaced by '***'. */
  body: string;
  operation?: string;
  /** HTTP status sent, 0 when the connection was dropped. */
  status: number;
}

/** A plain HTTP endpoint of a service. */
export interface HttpRoute {
  /** `req` lets a route claim requests by their headers (the MTOM firmware upload shares the device service's path). */
  matches(path: string, method: string, req?: IncomingMessage): boolean;
  /**
   * 'stream': the handler reads the request itself (uploads, never buffered as a string); injected faults do
   * not apply. 'buffered': the server reads the body first, logs it and applies injected faults, as for SOAP.
   */
  readonly body: 'stream' | 'buffered';
  /** `record` is the request's log entry: a streamed route may set its body to a summary. */
  handle(req: IncomingMessage, record: SimulatedRequest): Promise<HttpReply> | HttpReply;
}
