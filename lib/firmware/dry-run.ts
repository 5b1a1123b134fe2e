import type { OnvifDevice } from '../device/onvif-device';
import { isOnvifError } from '../errors';
import { openImage, type FirmwareImage } from './source';
import type { FirmwareState } from './types';
import { readFirmwareState } from './upgrade';

export interface FirmwareDryRunOptions {
  expectVersion?: string;
  expectModel?: string;
  tryAnyway?: boolean;
  method?: 'auto' | 'http' | 'mtom';
  signal?: AbortSignal;
}

export interface FirmwareDryRun {
  address: string;
  /** The device answered and the credentials were accepted. */
  reachable: boolean;
  /** What the upgrade would use: 'http', 'mtom', or 'none' (it would be refused). */
  method: 'http' | 'mtom' | 'none';
  /** The device as it is now (absent when it could not be read). */
  before?: FirmwareState;
  image?: { name: string; size: number };
  /** 'upgrade': it would go ahead; 'skip': already on expectVersion; 'refuse': see problems. */
  action: 'upgrade' | 'skip' | 'refuse';
  /** What stops the upgrade (empty when it would go ahead). */
  problems: string[];
  /** What would not stop it but deserves a look. */
  warnings: string[];
  /** One sentence: what would happen. */
  text: string;
}

/**
 * What upgradeFirmware would do, sending nothing that changes the device: checks the image can be read,
 * the device answers and accepts the credentials, how it offers upgrades, its model and its current
 * version. Only reads (GetServices, GetDeviceInformation, GetScopes, network reads) go to the device.
 */
export async function firmwareDryRun(device: OnvifDevice, image: FirmwareImage, options: FirmwareDryRunOptions = {}): Promise<FirmwareDryRun> {
  const where = device.displayAddress;
  const problems: string[] = [];
  const warnings: string[] = [];
  let imageInfo: FirmwareDryRun['image'];
  try {
    const opened = await openImage(image, options.signal);
    imageInfo = { name: opened.name, size: opened.size };
  } catch (e) {
    problems.push((e as Error).message);
  }
  let before: FirmwareState | undefined;
  try {
    await device.connect();
    before = await readFirmwareState(device, options.signal);
  } catch (e) {
    if (options.signal?.aborted) throw e;
    problems.push(isOnvifError(e) ? e.message : String(e));
  }
  let method: FirmwareDryRun['method'] = 'none';
  let action: FirmwareDryRun['action'] = 'refuse';
  if (before) {
    const offered = before.upgradeMethod;
    const wanted = options.method ?? 'auto';
    if (wanted === 'auto') method = offered !== 'none' ? offered : options.tryAnyway ? 'http' : 'none';
    else method = offered === wanted || options.tryAnyway ? wanted : 'none';
    if (method === 'none') {
      problems.push(
        offered === 'none'
          ? `${where} does not offer a firmware upgrade (neither HttpFirmwareUpgrade nor FirmwareUpgrade); tryAnyway would try StartFirmwareUpgrade regardless.`
          : `${where} offers only the ${offered === 'http' ? 'HTTP' : 'MTOM'} upgrade, not the ${wanted === 'http' ? 'HTTP' : 'MTOM'} one asked for.`,
      );
    } else if (offered === 'none') warnings.push(`${where} does not list a firmware upgrade in its capabilities; tryAnyway will try StartFirmwareUpgrade.`);
    if (method === 'mtom') warnings.push(`${where} offers only the deprecated MTOM UpgradeSystemFirmware: it states no down time, so the wait uses legacyDownTimeMs.`);
    if (options.expectModel !== undefined && options.expectModel !== before.model) problems.push(`The image is for model ${options.expectModel}, but ${where} is a ${before.model}.`);
    if (before.profileQState === 'FactoryDefault') warnings.push(`${where} is in Factory Default State (not commissioned): anyone on the network may configure it.`);
    if (problems.length === 0) action = options.expectVersion !== undefined && options.expectVersion === before.firmwareVersion ? 'skip' : 'upgrade';
  }
  const text =
    action === 'upgrade'
      ? `Would upgrade ${where} (${before!.model}, ${before!.firmwareVersion}${options.expectVersion ? ` → ${options.expectVersion}` : ''}) by ${method === 'http' ? 'HTTP POST' : 'MTOM UpgradeSystemFirmware'} with ${imageInfo!.name} (${imageInfo!.size} bytes).`
      : action === 'skip'
        ? `Would skip ${where}: it already runs ${before!.firmwareVersion}.`
        : `Would not upgrade ${where}: ${problems.join(' ')}`;
  return { address: where, reachable: before !== undefined, method, ...(before ? { before } : {}), ...(imageInfo ? { image: imageInfo } : {}), action, problems, warnings, text };
}
