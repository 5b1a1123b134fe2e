/**
 * Every real-device capture in shared/fixtures/real must be readable by the library, and our readers must
 * agree with the independent extraction in expected.json (see derive-expected.py). One test per file.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { skipWith } from '../support/shared';
import { checkFixture, EXPECTED_FILE, listFixtures, REAL_FIXTURES, type Expected } from './check-capture';

describe('real device captures (shared/fixtures/real)', function () {
  if (!fs.existsSync(REAL_FIXTURES)) {
    it('needs shared/fixtures/real', function () {
      skipWith(this, `skipped: real captures not found at ${REAL_FIXTURES}`);
    });
    return;
  }
  const expected = JSON.parse(fs.readFileSync(EXPECTED_FILE, 'utf8')) as Record<string, Expected>;
  const files = listFixtures(REAL_FIXTURES);

  it('has an independent expectation for every capture (re-run derive-expected.py when captures change)', function () {
    assert.deepEqual(files.filter((f) => !expected[f]), []);
    assert.deepEqual(Object.keys(expected).filter((f) => !files.includes(f)), []);
  });

  for (const rel of files) {
    it(rel, function () {
      const exp = expected[rel];
      assert.ok(exp, `no entry for ${rel} in expected.json`);
      checkFixture(rel, exp);
    });
  }
});
