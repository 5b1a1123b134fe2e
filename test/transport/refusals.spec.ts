import * as assert from 'node:assert/strict';
import { OnvifDevice } from '../../lib/device/onvif-device';
import { OnvifError } from '../../lib/errors';
import type { AuthMode } from '../../lib/transport/types';
import { el } from '../../lib/xml/build';
import { NS } from '../../lib/xml/namespaces';
import { NOT_AUTHORIZED, TestServer, sendSoap, type Handler } from './soap-server';

/** Every call against these devices must end within this many requests (real cameras lock accounts after a few failures). */
const BUDGET = 4;
/** The server hangs up after this many requests, so a request storm ends in a failed assertion instead of a hang. */
const STORM_STOP = 40;

interface Refuser {
  name: string;
  handler: Handler;
  /** What the error message must say the device did. */
  said: RegExp;
}

const REFUSERS: Refuser[] = [
  {
    name: 'HTTP 401 without WWW-Authenticate (Dahua style, empty body)',
    handler: (_req, res) => {
      res.writeHead(401, { 'Content-Length': '0' });
      res.end();
    },
    said: /HTTP 401 and no WWW-Authenticate challenge/,
  },
  {
    name: 'HTTP 401 with a WWW-Authenticate header that cannot be parsed',
    handler: (_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': '@@ "=" ,;', 'Content-Type': 'text/plain' });
      res.end('no');
    },
    said: /HTTP 401 and a WWW-Authenticate header this client cannot read \("@@ "=" ,;"\)/,
  },
  {
    name: 'ter:NotAuthorized to everything, even the anonymous GetSystemDateAndTime',
    handler: (_req, res) => sendSoap(res, NOT_AUTHORIZED, 400),
    said: /ter:NotAuthorized \(HTTP 400\)/,
  },
];

describe('transport: a device that refuses every request ends each call within a few requests', function () {
  let srv: TestServer | undefined;
  const devices: OnvifDevice[] = [];

  const start = async (handler: Handler) => {
    srv = await TestServer.start((req, res) => {
      if (srv!.requests.length > STORM_STOP) return res.socket?.destroy();
      handler(req, res);
    });
    return srv;
  };
  const open = (auth: AuthMode) => {
    const d = new OnvifDevice({ address: srv!.url, username: 'admin', password: 'Secret-Pass1', auth, timeoutMs: 3000 });
    devices.push(d);
    return d;
  };
  /** Requests the server saw while `run` ran, and the error it ended with. */
  const measure = async (run: () => Promise<unknown>): Promise<{ sent: number; error: OnvifError }> => {
    const before = srv!.requests.length;
    try {
      await run();
    } catch (e) {
      assert.ok(e instanceof OnvifError, `expected an OnvifError, got ${e}`);
      return { sent: srv!.requests.length - before, error: e };
    }
    assert.fail('expected the call to fail');
  };

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await srv?.stop();
    srv = undefined;
  });

  for (const refuser of REFUSERS) {
    for (const auth of ['auto', 'digest', 'ws-security'] as const) {
      it(`${refuser.name}, auth ${auth}: OnvifDevice.call (connecting first) and a direct send each end with an auth error within ${BUDGET} requests`, async () => {
        await start(refuser.handler);
        const device = open(auth);
        // Twice: the second call must not cost more than the first (no growing storm, no reconnect burst).
        for (let i = 0; i < 2; i++) {
          const { sent, error } = await measure(() => device.call('GetDeviceInformation'));
          assert.equal(error.kind, 'auth', error.message);
          assert.ok(sent <= BUDGET, `call ${i + 1} sent ${sent} requests: ${error.message}`);
          if (i === 0) {
            assert.match(error.message, refuser.said);
            if (auth !== 'digest') assert.match(error.message, /even the anonymous clock read/);
          }
        }
        // The lower-level path: no session, so the refused token leads to a clock re-measure of its own.
        const fresh = open(auth);
        const { sent, error } = await measure(() =>
          fresh.send(srv!.url, el(NS.tds, 'GetDeviceInformation'), { operation: 'GetDeviceInformation', action: `${NS.tds}/GetDeviceInformation` }),
        );
        assert.equal(error.kind, 'auth', error.message);
        assert.ok(sent <= BUDGET, `send sent ${sent} requests: ${error.message}`);
        assert.match(error.message, refuser.said);
        if (auth !== 'digest') assert.match(error.message, /answered every request, even the anonymous clock read/);
        assert.doesNotMatch(error.message, /Secret-Pass1/);
      });
    }
  }
});
