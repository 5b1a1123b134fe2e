import { strict as assert } from 'node:assert';
import { buildEnvelope, parseEnvelope, NotSoapError } from '../../lib/soap/envelope';
import { el, serializeXml } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { parseXml, XmlParseError } from '../../lib/xml/parse';
import { attr, child, resolveQName, text } from '../../lib/xml/query';

describe('XML parsing and building', () => {
  it('resolves namespaces whatever the prefixes, and decodes the predefined entities', () => {
    const a = parseXml('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"><SOAP-ENV:Body><x:R xmlns:x="urn:x" a="1 &amp; 2">&lt;ok&gt; &#233;</x:R></SOAP-ENV:Body></SOAP-ENV:Envelope>');
    const r = child(child(a, 'Body', NS.soap), 'R', 'urn:x');
    assert.equal(a.ns, NS.soap);
    assert.equal(r?.text, '<ok> é');
    assert.equal(attr(r, 'a'), '1 & 2');
  });

  it('binds undeclared conventional prefixes and keeps unknown ones matchable by local name', () => {
    const doc = parseXml('<tds:GetServicesResponse>\t<tad:Capabilities\tX="1"/><zz:Thing>v</zz:Thing></tds:GetServicesResponse>');
    assert.equal(doc.ns, NS.tds);
    assert.equal(text(doc, 'Thing'), 'v');
    assert.equal(attr(child(doc, 'Capabilities'), 'X'), '1');
    assert.deepEqual(resolveQName(doc, 'ter:NotAuthorized').ns, NS.ter);
  });

  it('names a stray character before the root by code point when it cannot be shown (found by the fuzz test)', () => {
    assert.throws(() => parseXml('<?xml version="1.0"?>\u000b<a/>'), (e: Error) => /character U\+000B is not expected/.test(e.message) && !/undefined/.test(e.message));
    assert.throws(() => parseXml('<!-- x -->\ufeff<a/>'), (e: Error) => /character U\+FEFF is not expected/.test(e.message));
    assert.throws(() => parseXml('x<a/>'), /char 'x' is not expected/);
  });

  it('refuses DTDs, so entity-expansion bombs never expand', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>';
    assert.throws(() => parseXml(bomb), (e: Error) => e instanceof XmlParseError && /DOCTYPE/.test(e.message));
  });

  it('refuses documents over the size cap and malformed XML, with a message', () => {
    assert.throws(() => parseXml(`<r>${'x'.repeat(2000)}</r>`, { maxBytes: 1000 }), /over the 1000-byte limit/);
    assert.throws(() => parseXml('<a><b></a>'), (e: Error) => e instanceof XmlParseError && /malformed XML/.test(e.message));
    assert.throws(() => parseXml('   '), /empty document/);
  });

  it('keeps CDATA as written (no entity decoding inside), normalises line ends, and knows no prefix called constructor', () => {
    const doc = parseXml('<a>x\r\n<![CDATA[&amp; <b>]]>&amp;<!-- note --></a>');
    assert.equal(doc.text, 'x\n&amp; <b>&');
    assert.equal(parseXml('<constructor:a/>').ns, 'urn:onvifq:undeclared:constructor');
    assert.equal(resolveQName(doc, 'toString:x').ns, 'urn:onvifq:undeclared:toString');
  });

  it('tells HTML apart from SOAP', () => {
    assert.throws(() => parseEnvelope('<html><body>404 Not Found</body></html>'), (e: Error) => e instanceof NotSoapError && /<html>/.test(e.message));
  });

  it('builds envelopes that declare each namespace once and escape text and attributes', () => {
    const xml = buildEnvelope(el(NS.tds, 'SetHostname', undefined, el(NS.tds, 'Name', { note: 'a"b<c' }, 'x & <y>')));
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><env:Envelope xmlns:env="http:\/\/www.w3.org\/2003\/05\/soap-envelope" xmlns:tds="http:\/\/www.onvif.org\/ver10\/device\/wsdl">/);
    const back = parseEnvelope(xml);
    assert.equal(back.content?.local, 'SetHostname');
    assert.equal(text(back.content, 'Name'), 'x & <y>');
    assert.equal(attr(child(back.content, 'Name'), 'note'), 'a"b<c');
    assert.equal(serializeXml(el('', 'plain'), { declaration: false }), '<plain/>');
  });
});
