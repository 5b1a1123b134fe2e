import * as assert from 'node:assert/strict';
import { DEVICE_TEXT_LIMIT, OnvifError, deviceText } from '../../lib/errors';

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('deviceText(): device words made safe for messages, logs and statuses', () => {
  it('removes terminal escapes, NUL, vertical tab, C1 controls and bidi overrides', () => {
    const hostile = 'a\x1b[2J\x1b]0;owned\x07b\x00c\x0bd\x9b31me\u202efdp.exe\u2066g';
    const shown = deviceText(hostile);
    assert.ok(!CONTROL.test(shown), JSON.stringify(shown));
    assert.equal(shown, 'a [2J ]0;owned b c d 31me fdp.exe g');
  });

  it('folds line breaks and whitespace runs into one space, so a device cannot forge a second log line', () => {
    assert.equal(deviceText('  first\r\n2026-01-01 [error] forged\t\tline  '), 'first 2026-01-01 [error] forged line');
    assert.equal(deviceText('x\u2028y\u2029z'), 'x y z');
  });

  it(`cuts at ${DEVICE_TEXT_LIMIT} characters and says how much was left out`, () => {
    const long = 'n'.repeat(5000);
    const shown = deviceText(long);
    assert.equal(shown, `${'n'.repeat(DEVICE_TEXT_LIMIT)}… (4800 more characters)`);
    assert.equal(deviceText('n'.repeat(DEVICE_TEXT_LIMIT)), 'n'.repeat(DEVICE_TEXT_LIMIT), 'exactly at the limit: untouched');
    assert.equal(deviceText('abcdef', 3), 'abc… (3 more characters)');
  });

  it('never cuts an emoji in half', () => {
    const shown = deviceText(`${'a'.repeat(DEVICE_TEXT_LIMIT - 1)}😀tail`);
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(shown), 'no lone high surrogate');
    assert.ok(shown.startsWith(`${'a'.repeat(DEVICE_TEXT_LIMIT - 1)}…`));
  });

  it('takes anything: undefined and null give empty text, numbers their digits', () => {
    assert.equal(deviceText(undefined), '');
    assert.equal(deviceText(null), '');
    assert.equal(deviceText(42), '42');
  });

  it('OnvifError keeps the full device text and all reasons, also in its JSON', () => {
    const e = new OnvifError('fault', 'short', { reason: 'x'.repeat(500), reasons: [{ lang: 'en', text: 'x'.repeat(500) }], deviceText: 'x'.repeat(500) });
    const json = e.toJSON();
    assert.equal((json.reason as string).length, 500);
    assert.equal((json.deviceText as string).length, 500);
    assert.deepEqual(json.reasons, [{ lang: 'en', text: 'x'.repeat(500) }]);
  });
});
