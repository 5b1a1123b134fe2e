import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * The simulator's firmware image format (a real device's format is the vendor's business, Core §8.3.9):
 *
 *   offset 0        8 bytes   magic "ONVIFQFW"
 *   offset 8        4 bytes   header length H, unsigned big-endian
 *   offset 12       H bytes   header, UTF-8 JSON: {"format": 1, "model": "...", "version": "2.0.0", "payloadBytes": N}
 *   offset 12 + H   N bytes   payload (opaque; make-firmware fills it with random bytes)
 *   last            32 bytes  SHA-256 of everything before it
 *
 * A device accepts an image whose model is its own, whose lengths add up and whose checksum matches;
 * anything else is answered 415 and the firmware stays as it was.
 */
export const FIRMWARE_MAGIC = Buffer.from('ONVIFQFW', 'ascii');
export const FIRMWARE_FORMAT = 1;
const PREFIX_BYTES = 12;
const CHECKSUM_BYTES = 32;
const MAX_HEADER_BYTES = 4096;

export interface FirmwareHeader {
  format: typeof FIRMWARE_FORMAT;
  model: string;
  version: string;
  payloadBytes: number;
}

export interface MakeFirmwareOptions {
  model: string;
  version: string;
  /** Payload size, bytes (default 64 KiB). */
  payloadBytes?: number;
}

function prefix(o: MakeFirmwareOptions): Buffer {
  const header: FirmwareHeader = { format: FIRMWARE_FORMAT, model: o.model, version: o.version, payloadBytes: o.payloadBytes ?? 64 * 1024 };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const p = Buffer.alloc(PREFIX_BYTES);
  FIRMWARE_MAGIC.copy(p, 0);
  p.writeUInt32BE(json.length, 8);
  return Buffer.concat([p, json]);
}

/** Total size of an image with this payload. */
export function firmwareSize(o: MakeFirmwareOptions): number {
  return prefix(o).length + (o.payloadBytes ?? 64 * 1024) + CHECKSUM_BYTES;
}

/** A whole image in memory (small images: tests). */
export function makeFirmware(o: MakeFirmwareOptions): Buffer {
  const head = prefix(o);
  const body = Buffer.concat([head, randomBytes(o.payloadBytes ?? 64 * 1024)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Write an image to `file` in 1 MiB blocks (memory stays flat for a 200 MB image). Resolves with its size. */
export async function writeFirmware(file: string, o: MakeFirmwareOptions): Promise<number> {
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  const put = async (b: Buffer) => {
    hash.update(b);
    if (!out.write(b)) await once(out, 'drain');
  };
  await put(prefix(o));
  let left = o.payloadBytes ?? 64 * 1024;
  const block = randomBytes(1024 * 1024);
  while (left > 0) {
    const n = Math.min(left, block.length);
    // Vary each block a little so no two are equal (a device cannot take shortcuts on repeated data).
    block.writeUInt32BE(left, 0);
    await put(n === block.length ? Buffer.from(block) : block.subarray(0, n));
    left -= n;
  }
  out.end(hash.digest());
  await once(out, 'close');
  return firmwareSize(o);
}

export type FirmwareCheck = { ok: true; header: FirmwareHeader } | { ok: false; why: string };

/**
 * Checks an image as it streams in, never holding more than the header and the last 32 bytes: feed
 * every chunk to push(), then end() says whether it is a good image for `model`.
 */
export class FirmwareVerifier {
  private readonly hash = createHash('sha256');
  private head = Buffer.alloc(0);
  private header?: FirmwareHeader;
  private problem?: string;
  /** The last bytes seen, held back from the hash until we know they are not the checksum. */
  private tail = Buffer.alloc(0);
  private total = 0;
  private headerBytes = 0;

  constructor(private readonly model: string) {}

  /** Bytes seen so far. */
  get bytes(): number {
    return this.total;
  }

  /** The header, once read (also when the image is refused later). */
  get seenHeader(): FirmwareHeader | undefined {
    return this.header;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.problem) return;
    if (!this.header) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length >= 8 && !this.head.subarray(0, 8).equals(FIRMWARE_MAGIC)) {
        this.problem = 'it is not a firmware image of this device (wrong magic bytes)';
        return;
      }
      if (this.head.length < PREFIX_BYTES) return;
      const h = this.head.readUInt32BE(8);
      if (h > MAX_HEADER_BYTES) {
        this.problem = 'the image header is damaged (impossible length)';
        return;
      }
      if (this.head.length < PREFIX_BYTES + h) return;
      try {
        const parsed = JSON.parse(this.head.subarray(PREFIX_BYTES, PREFIX_BYTES + h).toString('utf8')) as FirmwareHeader;
        if (parsed.format !== FIRMWARE_FORMAT || typeof parsed.model !== 'string' || typeof parsed.version !== 'string' || !Number.isSafeInteger(parsed.payloadBytes)) {
          this.problem = 'the image header is damaged or of an unknown format';
          return;
        }
        this.header = parsed;
        this.headerBytes = h;
      } catch {
        this.problem = 'the image header is damaged (not JSON)';
        return;
      }
      chunk = this.head;
      this.head = Buffer.alloc(0);
    }
    // Keep the last 32 bytes out of the hash.
    const joined = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const cut = Math.max(0, joined.length - CHECKSUM_BYTES);
    this.hash.update(joined.subarray(0, cut));
    this.tail = Buffer.from(joined.subarray(cut));
  }

  end(): FirmwareCheck {
    if (this.problem) return { ok: false, why: this.problem };
    const h = this.header;
    if (!h) return { ok: false, why: 'the file is too short to be a firmware image' };
    const expected = PREFIX_BYTES + this.headerBytes + h.payloadBytes + CHECKSUM_BYTES;
    if (this.total < expected) return { ok: false, why: 'the image is truncated' };
    if (this.total > expected) return { ok: false, why: 'the image has extra bytes after its checksum' };
    if (!this.hash.digest().equals(this.tail)) return { ok: false, why: 'the image is damaged (SHA-256 checksum mismatch)' };
    if (h.model !== this.model) return { ok: false, why: `the image is for model ${h.model}, this device is ${this.model}` };
    return { ok: true, header: h };
  }
}
