/**
 * Hostile and large answers (issue 10, item 7): parsing a 10 MB answer (the default response cap) costs a
 * bounded amount of memory whatever its shape, and answers past the structural limits fail with a clear
 * error instead of taking the process down. Memory is measured in a child process per answer (peak RSS from a mark
 * reset once the answer is built), so neither the test runner's heap nor building the answer blurs it. No time limits.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { OnvifError } from '../../lib/errors';
import { SoapClient } from '../../lib/transport';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { DEFAULT_MAX_XML_NODES, parseXml, XmlParseError } from '../../lib/xml/parse';
import { buildAnswer, buildDeepAnswer, SHAPES } from '../support/large-answers';
import type { ParseCost } from '../support/parse-child';
import { TestServer } from '../transport/soap-server';

const CHILD = path.join(__dirname, '..', 'support', 'parse-child.ts');
const TEN_MB = 10 * 1024 * 1024;
const PEAK_RSS_LIMIT_MB = 100;

async function parseInChild(shape: string, size: number): Promise<ParseCost> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', CHILD, shape, String(size)], {
    cwd: path.join(__dirname, '..', '..'),
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ParseCost;
}

describe('XML: large and hostile answers cost bounded memory', function () {
  this.timeout(180_000);

  for (const [shape, { about }] of Object.entries(SHAPES)) {
    it(`a 10 MB answer, ${about}: parsed or refused with under ${PEAK_RSS_LIMIT_MB} MB of peak RSS growth`, async () => {
      const cost = await parseInChild(shape, TEN_MB);
      assert.ok(cost.bytes > TEN_MB - 4096, `the answer is ${cost.bytes} bytes`);
      if (cost.error) assert.match(cost.error, /^XmlParseError: XML document has more than \d+ elements, attributes and namespace bindings/);
      assert.ok(cost.peakRssGrowthMb < PEAK_RSS_LIMIT_MB, `peak RSS grew by ${cost.peakRssGrowthMb} MB (${JSON.stringify(cost)})`);
    });
  }

  it('an answer over the element limit is refused before any tree is built: about the answer\'s own size in memory', async () => {
    // Counting elements and attributes first costs a scan; building the tree up to the limit cost 45-85 MB for these.
    for (const shape of ['tiny', 'users', 'nested', 'events', 'attributes', 'namespaces']) {
      const cost = await parseInChild(shape, TEN_MB);
      assert.match(cost.error ?? '', /^XmlParseError: XML document has more than \d+ elements/, shape);
      assert.ok(cost.peakRssGrowthMb < 25, `${shape}: peak RSS grew by ${cost.peakRssGrowthMb} MB (${JSON.stringify(cost)})`);
    }
  });

  it('large answers of a realistic shape within the limits parse fully, under the same memory bound', async () => {
    for (const [shape, size] of [['events', 4 * 1024 * 1024], ['users', 5 * 1024 * 1024], ['text', TEN_MB]] as const) {
      const cost = await parseInChild(shape, size);
      assert.equal(cost.error, undefined, `${shape}: ${cost.error}`);
      assert.ok(cost.elements! > (shape === 'text' ? 4 : 50_000), `${shape}: ${cost.elements} elements`);
      assert.ok(cost.peakRssGrowthMb < PEAK_RSS_LIMIT_MB, `${shape}: peak RSS grew by ${cost.peakRssGrowthMb} MB`);
    }
  });

  it('a few values kept from a large answer do not keep the whole answer in memory', async () => {
    // V8 substrings are views into their parent; the parser copies what it keeps so the answer can be freed.
    const script = `
      const { parseXml } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'xml', 'parse'))});
      gc(); const before = process.memoryUsage().heapUsed;
      const items = [];
      for (let i = 0; i < 40000; i++) items.push('<tt:V Name="a-long-attribute-value-' + i + '">a text value long enough to be a view ' + i + '</tt:V>');
      let tree = parseXml('<r xmlns:tt="urn:tt">' + items.join('') + '</r>');
      items.length = 0;
      const kept = [tree.children[123].text, tree.children[456].attributes[0].value, tree.children[789].name];
      tree = undefined;
      gc(); gc();
      console.log(JSON.stringify({ keptMb: (process.memoryUsage().heapUsed - before) / 1048576, kept }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', '-e', script], {
      cwd: path.join(__dirname, '..', '..'),
    });
    const { keptMb, kept } = JSON.parse(stdout.trim().split('\n').pop()!) as { keptMb: number; kept: string[] };
    assert.deepEqual(kept, ['a text value long enough to be a view 123', 'a-long-attribute-value-456', 'tt:V']);
    assert.ok(keptMb < 1, `${keptMb.toFixed(1)} MB still held for three short values of a 5 MB answer`);
  });

  it('100 000 nested elements are a clear error, not a stack overflow', () => {
    assert.throws(
      () => parseXml(buildDeepAnswer(100_000)),
      (e: Error) => e instanceof XmlParseError && /nested deeper than 256 elements/.test(e.message),
    );
    // Within the depth limit, nesting is fine.
    assert.equal(parseXml(`${'<a>'.repeat(250)}x${'</a>'.repeat(250)}`).children[0]?.local, 'a');
  });

  it('the element limit is a clear error, and can be set per parse', () => {
    const flood = buildAnswer('tiny', 2 * 1024 * 1024);
    assert.throws(
      () => parseXml(flood),
      (e: Error) => e instanceof XmlParseError && e.message.includes(`more than ${DEFAULT_MAX_XML_NODES} elements`),
    );
    assert.throws(() => parseXml(buildAnswer('users', 64 * 1024), { maxNodes: 100 }), /more than 100 elements/);
    // A declaration copies the bindings in scope, and the copies count: 301 elements and attributes here, but
    // 100 copies of 102 bindings.
    const declarations = Array.from({ length: 100 }, (_, i) => ` xmlns:p${i}="urn:p${i}"`).join('');
    const copies = `<r${declarations}>${Array.from({ length: 100 }, (_, i) => `<p${i}:c xmlns:q="urn:q"/>`).join('')}</r>`;
    assert.throws(() => parseXml(copies, { maxNodes: 1000 }), /more than 1000 elements/);
    assert.equal(parseXml(copies, { maxNodes: 20_000 }).children.length, 100);
    // What looks like start tags inside comments, CDATA sections, processing instructions and (not well-formed,
    // but read) attribute values is not counted.
    const looksLikeTags = '<a>'.repeat(DEFAULT_MAX_XML_NODES + 1);
    assert.equal(parseXml(`<r><![CDATA[${looksLikeTags}]]></r>`).text.length, looksLikeTags.length);
    assert.equal(parseXml(`<r><!--${looksLikeTags}--><c/></r>`).children.length, 1);
    assert.equal(parseXml(`<?pi ${looksLikeTags}?><r><c/></r>`).children.length, 1);
    assert.equal(parseXml(`<r v='${looksLikeTags}'/>`).attributes[0]?.value.length, looksLikeTags.length);
  });

  it('a device flooding a call with millions of empty elements gets a bad-response error naming the limit', async () => {
    const flood = buildAnswer('tiny', TEN_MB - 1024);
    const srv = await TestServer.start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(flood);
    });
    const client = new SoapClient();
    try {
      const e = await client.call(srv.url, el(NS.tds, 'GetUsers')).then(
        () => assert.fail('expected the call to fail'),
        (err: unknown) => err,
      );
      assert.ok(e instanceof OnvifError, `expected OnvifError, got ${e}`);
      assert.equal(e.kind, 'bad-response');
      assert.match(e.message, /more than 200000 elements, attributes and namespace bindings/);
    } finally {
      client.close();
      await srv.stop();
    }
  });
});
