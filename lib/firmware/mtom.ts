import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buildEnvelope } from '../soap/envelope';
import { el } from '../xml/build';
import { NS } from '../xml/namespaces';
import type { OpenedImage } from './source';

const XOP_NS = 'http://www.w3.org/2004/08/xop/include';
const XMIME_NS = 'http://www.w3.org/2005/05/xmlmime';
const ROOT_ID = 'root.firmware@onvifq';
const IMAGE_ID = 'image.firmware@onvifq';
export const UPGRADE_SYSTEM_FIRMWARE_ACTION = `${NS.tds}/UpgradeSystemFirmware`;

/** The SOAP part: tds:UpgradeSystemFirmware whose tds:Firmware (tt:AttachmentData) points at the image part. */
export function upgradeSystemFirmwareEnvelope(): string {
  return buildEnvelope(
    el(NS.tds, 'UpgradeSystemFirmware', undefined,
      el(NS.tds, 'Firmware', { [`{${XMIME_NS}}contentType`]: 'application/octet-stream' }, el(XOP_NS, 'Include', { href: `cid:${IMAGE_ID}` }))),
  );
}

export interface MtomRequest {
  contentType: string;
  /** Exact Content-Length of the whole multipart body. */
  size: number;
  /** A fresh body stream: envelope part, then the image streamed from its source, then the closing delimiter. */
  open(): Readable;
}

/**
 * UpgradeSystemFirmware as MTOM/XOP (Core 24.12 §8.3.9, deprecated): multipart/related with the SOAP
 * envelope as the root part and the image as a binary attachment. The image is streamed, never buffered,
 * and the size is known up front, so the request has a Content-Length like the HTTP upload.
 */
export function mtomRequest(image: OpenedImage): MtomRequest {
  const boundary = `onvifq-firmware-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\n` +
      'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n' +
      'Content-Transfer-Encoding: 8bit\r\n' +
      `Content-ID: <${ROOT_ID}>\r\n\r\n` +
      upgradeSystemFirmwareEnvelope() +
      `\r\n--${boundary}\r\n` +
      'Content-Type: application/octet-stream\r\n' +
      'Content-Transfer-Encoding: binary\r\n' +
      `Content-ID: <${IMAGE_ID}>\r\n\r\n`,
    'utf8',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  const contentType =
    `multipart/related; type="application/xop+xml"; start="<${ROOT_ID}>"; start-info="application/soap+xml"; ` +
    `action="${UPGRADE_SYSTEM_FIRMWARE_ACTION}"; boundary="${boundary}"`;
  const open = () =>
    Readable.from(
      (async function* () {
        yield head;
        const body = image.open();
        try {
          for await (const chunk of body) yield chunk as Buffer;
        } finally {
          body.destroy();
        }
        yield tail;
      })(),
      { objectMode: false },
    );
  return { contentType, size: head.length + image.size + tail.length, open };
}
