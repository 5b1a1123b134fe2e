/**
 * Large SOAP answers of several shapes, built straight into one Buffer (so building one costs no more memory
 * than the answer itself). Used by the parse benchmark and the bounded-memory test, each in a child process.
 */

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" ' +
  'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tns1="http://www.onvif.org/ver10/topics"><SOAP-ENV:Body>';
const ENVELOPE_CLOSE = '</SOAP-ENV:Body></SOAP-ENV:Envelope>\n';

interface Shape {
  /** What a device would send this for. */
  about: string;
  open: string;
  /** The i-th repeated piece. */
  item: (i: number) => string;
  close: string;
}

const NESTING = 200;

export const SHAPES: Record<string, Shape> = {
  users: {
    about: 'GetUsers with a huge user list (many small elements)',
    open: '<tds:GetUsersResponse>',
    item: (i) => `<tds:User><tt:Username>user${i}</tt:Username><tt:UserLevel>Operator</tt:UserLevel></tds:User>\n`,
    close: '</tds:GetUsersResponse>',
  },
  events: {
    about: 'PullMessages with many notifications (elements and attributes)',
    open: '<tev:PullMessagesResponse><tev:CurrentTime>2026-03-21T17:05:40Z</tev:CurrentTime><tev:TerminationTime>2026-03-21T17:07:39Z</tev:TerminationTime>',
    item: (i) =>
      '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>' +
      `<wsnt:Message><tt:Message UtcTime="2026-03-21T17:05:40Z" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VSC${i}"/>` +
      '<tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/></tt:Source><tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>\n',
    close: '</tev:PullMessagesResponse>',
  },
  text: {
    about: 'one huge text node (a system log), with some entities',
    open: '<tds:GetSystemLogResponse><tds:SystemLog><tt:String>',
    item: (i) => `Mar 21 17:05:40 camera daemon[${i}]: request from 192.168.1.20 &lt;ok&gt; took 12 ms &amp; returned 200\n`,
    close: '</tt:String></tds:SystemLog></tds:GetSystemLogResponse>',
  },
  nested: {
    about: `many subtrees ${NESTING} elements deep`,
    open: '<tds:Deep>',
    item: () => '<tt:N>'.repeat(NESTING) + 'x' + '</tt:N>'.repeat(NESTING) + '\n',
    close: '</tds:Deep>',
  },
  attributes: {
    about: 'elements with 20 attributes each',
    open: '<tds:Items>',
    item: (i) => `<tt:Item${Array.from({ length: 20 }, (_, k) => ` a${k}="${i}-${k}"`).join('')}/>\n`,
    close: '</tds:Items>',
  },
  namespaces: {
    about: 'every element declares 10 namespaces of its own',
    open: '<tds:Items>',
    item: (i) => `<p0:Item${Array.from({ length: 10 }, (_, k) => ` xmlns:p${k}="urn:example:ns${k}:${i}"`).join('')}><p1:V>${i}</p1:V></p0:Item>\n`,
    close: '</tds:Items>',
  },
  tiny: {
    about: 'hostile: nothing but empty elements <a/>',
    open: '<tds:Items>',
    item: () => '<a/>',
    close: '</tds:Items>',
  },
};

/** An answer of this shape, `bytes` long at most (and as close to it as whole items allow). */
export function buildAnswer(shape: string, bytes: number): Buffer {
  const s = SHAPES[shape];
  if (!s) throw new Error(`no shape "${shape}"; have: ${Object.keys(SHAPES).join(', ')}`);
  const buf = Buffer.alloc(bytes);
  let at = buf.write(ENVELOPE_OPEN + s.open);
  const tail = s.close + ENVELOPE_CLOSE;
  for (let i = 0; ; i++) {
    const piece = s.item(i);
    if (at + Buffer.byteLength(piece) + tail.length > bytes) break;
    at += buf.write(piece, at);
  }
  at += buf.write(tail, at);
  return buf.subarray(0, at);
}

/** `depth` elements nested in one another inside an envelope (a hostile answer). */
export function buildDeepAnswer(depth: number): Buffer {
  return Buffer.from(ENVELOPE_OPEN + '<a>'.repeat(depth) + '</a>'.repeat(depth) + ENVELOPE_CLOSE);
}
