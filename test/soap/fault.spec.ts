import * as assert from 'node:assert/strict';
import { parseEnvelope } from '../../lib/soap/envelope';
import { chooseReason, describeFault, getPreferredLanguage, setPreferredLanguage } from '../../lib/soap/fault';
import { faultError } from '../../lib/transport/messages';

const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';

function fault12(reasonTexts: string, subcode = 'ter:InvalidArgVal'): Buffer {
  return Buffer.from(
    `<s:Envelope xmlns:s="${SOAP12}" xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault>` +
      `<s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason>${reasonTexts}</s:Reason></s:Fault></s:Body></s:Envelope>`,
  );
}

const DE = 'Der Absender hat einen ungültigen Wert gesendet';
const EN = 'The sender sent an invalid value';
const FR = "L'expéditeur a envoyé une valeur non valide";

describe('SOAP faults: reasons in several languages', () => {
  let saved: string | undefined;
  before(() => (saved = getPreferredLanguage()));
  afterEach(() => setPreferredLanguage(saved));

  const deAndEn = fault12(`<s:Text xml:lang="de">${DE}</s:Text><s:Text xml:lang="en">${EN}</s:Text>`);

  it('shows one reason, not all of them joined, and keeps every language', () => {
    setPreferredLanguage(undefined);
    const f = parseEnvelope(deAndEn).fault!;
    assert.equal(f.reason, EN);
    assert.deepEqual(f.reasons, [
      { lang: 'de', text: DE },
      { lang: 'en', text: EN },
    ]);
  });

  for (const [preferred, expected] of [
    ['de', DE],
    ['de-DE', DE],
    ['en', EN],
    ['en-US', EN],
    ['fr', EN],
  ] as const) {
    it(`preferred language ${preferred}: the reason is the ${expected === DE ? 'German' : 'English'} one`, () => {
      setPreferredLanguage(preferred);
      const f = parseEnvelope(deAndEn).fault!;
      assert.equal(f.reason, expected);
      assert.match(describeFault(f), new RegExp(`: ${expected}$`));
    });
  }

  it('without English and without the preferred language: the first one', () => {
    setPreferredLanguage('it');
    const f = parseEnvelope(fault12(`<s:Text xml:lang="de">${DE}</s:Text><s:Text xml:lang="fr">${FR}</s:Text>`)).fault!;
    assert.equal(f.reason, DE);
    assert.equal(f.reasons.length, 2);
  });

  it('regional tags match their language both ways (fr-CA text for fr, en for en-GB)', () => {
    const reasons = [
      { lang: 'fr-CA', text: FR },
      { lang: 'en', text: EN },
    ];
    assert.equal(chooseReason(reasons, 'fr')?.text, FR);
    assert.equal(chooseReason(reasons, 'en-GB')?.text, EN);
    assert.equal(chooseReason([{ lang: 'en-US', text: EN }, { lang: 'de', text: DE }], undefined)?.text, EN);
    assert.equal(chooseReason([], 'de'), undefined);
  });

  it('a Text without xml:lang counts as a language of its own ("")', () => {
    setPreferredLanguage('de');
    const f = parseEnvelope(fault12(`<s:Text>${EN}</s:Text>`)).fault!;
    assert.equal(f.reason, EN);
    assert.deepEqual(f.reasons, [{ lang: '', text: EN }]);
  });
});

describe('SOAP faults: device text in descriptions', () => {
  it('describeFault shows reason and subcodes without control characters and cut, the fault keeps them whole', () => {
    const hostile = `\x1b[31mred&#27;[2J\x0bline\x00end ${'r'.repeat(3000)}`;
    const f = parseEnvelope(fault12(`<s:Text xml:lang="en">${hostile}</s:Text>`, 'ter:Bad\x1bName')).fault!;
    const described = describeFault(f);
    assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(described), JSON.stringify(described.slice(0, 120)));
    assert.ok(described.length < 500, `${described.length} characters`);
    assert.match(described, /more characters\)$/);
    assert.ok(f.reason.includes('\x1b[31mred\x1b[2J\x0bline\x00end'), 'the fault keeps the text as the device sent it');
    assert.equal(f.reason.length, hostile.length - '&#27;'.length + 1);
  });
});

describe('SOAP faults: codes named like Object.prototype members', () => {
  it('s:constructor, a subcode namespace "constructor" and ter:toString read as written, with no hint', () => {
    const xml = Buffer.from(
      `<s:Envelope xmlns:s="${SOAP12}" xmlns:ter="http://www.onvif.org/ver10/error" xmlns:odd="constructor"><s:Body><s:Fault>` +
        `<s:Code><s:Value>s:constructor</s:Value><s:Subcode><s:Value>odd:Odd</s:Value><s:Subcode><s:Value>ter:toString</s:Value></s:Subcode></s:Subcode></s:Code>` +
        `<s:Reason><s:Text xml:lang="en">Strange</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`,
    );
    const f = parseEnvelope(xml).fault!;
    assert.equal(f.code, 'env:constructor');
    assert.deepEqual(f.subcodes, ['odd:Odd', 'ter:toString']);
    const message = faultError(f, 400, 'http://127.0.0.1:1', 'GetUsers').message;
    assert.ok(!message.includes('function'), message);
    assert.match(message, /Strange/);
  });
});
