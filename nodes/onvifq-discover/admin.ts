/**
 * Editor endpoints for discovery: the host's IPv4 interfaces (the discover node's interface choice) and a
 * one-off search (the onvifq-device config dialog's Search button).
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { probe, type DiscoveredDevice, type ProbeOptions } from '../../lib/discovery';
import { discoveryError } from './errors';
import type { Texts } from '../shared/i18n';
import { hostIPv4Interfaces, splitTargets } from './settings';

/** The dialog waits for the whole window, so keep it short. */
export const SEARCH_DEFAULT_S = 3;
export const SEARCH_MAX_S = 15;

/** One row of the search result: what the dialog lists and the address it fills in. */
export interface SearchResultDevice {
  endpoint: string;
  name?: string;
  hardware?: string;
  location?: string;
  /** The best-ranked device service URL: what goes into the address field. */
  xaddr?: string;
  xaddrs: string[];
  profileQState: DiscoveredDevice['profileQState'];
  profiles: string[];
  from: string;
}

export function registerDiscoveryAdmin(RED: NodeAPI, t: Texts): void {
  RED.httpAdmin.get('/onvifq-discover/interfaces', RED.auth.needsPermission('onvifq-discover.read'), (_req: Request, res: Response) => {
    res.json(hostIPv4Interfaces());
  });

  RED.httpAdmin.post('/onvifq-discover/search', RED.auth.needsPermission('onvifq-device.read'), (req: Request, res: Response) => {
    void search(t, req, res);
  });
}

interface SearchBody {
  targets?: unknown;
  interface?: unknown;
  timeout?: unknown;
}

async function search(t: Texts, req: Request, res: Response): Promise<void> {
  const body: SearchBody = req.body && typeof req.body === 'object' ? (req.body as SearchBody) : {};
  const options: ProbeOptions = {};
  const targets = splitTargets(body.targets);
  if (targets.length) {
    options.targets = targets;
    options.multicast = false;
  }
  if (typeof body.interface === 'string' && body.interface.trim()) options.interfaces = [body.interface.trim()];
  const seconds = body.timeout === undefined || body.timeout === '' ? SEARCH_DEFAULT_S : Number(body.timeout);
  if (!(seconds > 0 && seconds <= SEARCH_MAX_S)) {
    res.status(400).json({ ok: false, kind: 'invalid-input', message: t('onvifq-discover.error.searchWindow', { max: SEARCH_MAX_S }) });
    return;
  }
  options.timeoutMs = Math.round(seconds * 1000);
  try {
    const devices = await probe(options);
    res.json({ ok: true, devices: devices.map(toRow).sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.xaddr ?? '').localeCompare(b.xaddr ?? '')) });
  } catch (err) {
    const e = discoveryError(err, 'dialog', t);
    res.status(e.kind === 'invalid-input' ? 400 : 502).json({ ok: false, kind: e.kind, message: e.message });
  }
}

function toRow(d: DiscoveredDevice): SearchResultDevice {
  return {
    endpoint: d.endpoint,
    name: d.name,
    hardware: d.hardware,
    location: d.location,
    xaddr: d.xaddrs[0],
    xaddrs: d.xaddrs,
    profileQState: d.profileQState,
    profiles: d.profiles,
    from: d.from,
  };
}
