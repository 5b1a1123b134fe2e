import { readFileSync } from 'node:fs';
import { OnvifDevice } from '../../device/onvif-device';
import { certificateReport, enableHttps, renewCertificate, type CertificateSourceParams } from '../../tls/tasks';
import { DEVICE_FLAGS, UsageError, deviceOptions, parseArgs, type Command } from '../args';

const TLS_FLAGS = {
  ...DEVICE_FLAGS,
  values: [...DEVICE_FLAGS.values, 'ca-cert', 'ca-key', 'cert', 'key', 'chain', 'days', 'https-port', 'warn-days', 'key-length'],
  booleans: [...DEVICE_FLAGS.booleans, 'self-signed', 'http-off', 'poll'],
};

function readPem(flags: Record<string, string | boolean>, name: string): string | undefined {
  const file = flags[name];
  if (file === undefined) return undefined;
  if (typeof file !== 'string') throw new UsageError(`--${name} needs a file`);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --${name} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function wholeNumber(flags: Record<string, string | boolean>, name: string): number | undefined {
  if (flags[name] === undefined) return undefined;
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, not "${String(flags[name])}"`);
  return n;
}

/** The certificate source from --self-signed | --ca-cert/--ca-key | --cert/--key[/--chain]; files are read here, never echoed. */
function sourceParams(flags: Record<string, string | boolean>): CertificateSourceParams {
  const ca = flags['ca-cert'] !== undefined || flags['ca-key'] !== undefined;
  const own = flags.cert !== undefined || flags.key !== undefined;
  if ([flags['self-signed'] === true, ca, own].filter(Boolean).length > 1) throw new UsageError('choose one source: --self-signed, --ca-cert F --ca-key F, or --cert F --key F');
  if (ca && (flags['ca-cert'] === undefined || flags['ca-key'] === undefined)) throw new UsageError('--ca-cert and --ca-key go together');
  if (own && (flags.cert === undefined || flags.key === undefined)) throw new UsageError('--cert and --key go together');
  return {
    source: ca ? 'ca' : own ? 'certificate' : 'self-signed',
    caCertificate: readPem(flags, 'ca-cert'),
    caKey: readPem(flags, 'ca-key'),
    certificate: readPem(flags, 'cert'),
    privateKey: readPem(flags, 'key'),
    chain: readPem(flags, 'chain'),
    validDays: wholeNumber(flags, 'days'),
    keyLength: wholeNumber(flags, 'key-length'),
    waitForKey: flags.poll ? 'poll' : undefined,
  };
}

export const tls: Command = {
  usage: [
    'onvifq tls <address> enable [--self-signed | --ca-cert F --ca-key F | --cert F --key F [--chain F]] [--http-off]',
    '                                                        turn on verified HTTPS; prints the https address and what to trust',
    'onvifq tls <address> renew [same source options]       rotate the certificate while HTTPS stays on',
    'onvifq tls <address> report [--warn-days N]            the TLS certificate: expiry and days left',
  ],
  options: [
    'TLS options: --days N (validity, default 365), --https-port P, --key-length 2048, --poll (wait for keys by',
    '  polling instead of the KeyStatus event). Key files are read, used and never printed; keep them private.',
    '  After enable, reach the device as printed, e.g. onvifq info https://... --fingerprint <fp> (or --ca ca.pem).',
  ],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, TLS_FLAGS);
    const [address, action, extra] = positional;
    if (!address) throw new UsageError('tls needs a device address');
    if (!['enable', 'renew', 'report'].includes(action ?? '')) throw new UsageError(`tls needs enable, renew or report${action ? `, not "${action}"` : ''}`);
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (action !== 'enable' && (flags['http-off'] || flags['https-port'] !== undefined)) throw new UsageError('--http-off and --https-port belong to tls enable');
    const device = new OnvifDevice(deviceOptions(address, flags));
    let last = '';
    const onProgress = (p: { text: string }) => {
      if (p.text !== last) io.progress?.((last = p.text));
    };
    try {
      let result: unknown;
      if (action === 'report') {
        result = await certificateReport(device, { warnDays: wholeNumber(flags, 'warn-days') }, { onProgress, signal: io.signal });
      } else if (action === 'renew') {
        result = await renewCertificate(device, sourceParams(flags), { onProgress, signal: io.signal });
      } else {
        result = await enableHttps(device, { ...sourceParams(flags), httpOff: flags['http-off'] === true, httpsPort: wholeNumber(flags, 'https-port') }, { onProgress, signal: io.signal });
      }
      io.out(JSON.stringify(result, null, flags.compact ? undefined : 2));
    } finally {
      await device.close();
    }
  },
};
