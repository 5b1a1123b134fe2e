import { strict as assert } from 'node:assert';
import { SimulatedDevice } from '../../lib/simulator';

// The npm `onvif` package, a third-party client: shows the event service behaves like a real device to others.
const { Cam } = require('onvif') as { Cam: new (o: Record<string, unknown>) => OnvifCam };

interface NpmNotification {
  topic: { _: string };
  message: { message: { $: { PropertyOperation?: string }; data?: { simpleItem: SimpleItem | SimpleItem[] } } };
}
type SimpleItem = { $: { Name: string; Value: string | boolean | number } };

interface OnvifCam {
  uri?: Record<string, { href: string }>;
  getSystemDateAndTime(cb: (err: Error | null, v: unknown) => void): void;
  getServices(include: boolean, cb: (err: Error | null, v: unknown) => void): void;
  createPullPointSubscription(cb: (err: Error | null, v: { subscriptionReference: { address: { href: string } } }) => void): void;
  pullMessages(o: { messageLimit?: number }, cb: (err: Error | null, v: { notificationMessage?: NpmNotification | NpmNotification[] }) => void): void;
  unsubscribe(cb: (err: Error | null) => void): void;
  on(name: 'event', listener: (m: NpmNotification) => void): void;
  removeAllListeners(name: string): void;
}

function call<T>(fn: (cb: (err: Error | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const dataOf = (m: NpmNotification) => Object.fromEntries(list(m.message.message.data?.simpleItem).map((i) => [i.$.Name, i.$.Value]));
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';

describe('simulator: npm onvif client receives events', function () {
  this.timeout(20_000);
  const credentials = { username: 'admin', password: 'Npm-Events-1' };

  it('createPullPointSubscription + pullMessages get the Initialized burst and an event raised with raiseEvent (digest)', async () => {
    const dev = new SimulatedDevice({ ...credentials, processorUsageIntervalMs: 0, auth: 'digest' });
    await dev.start();
    try {
      const cam = new Cam({ hostname: '127.0.0.1', port: dev.port, ...credentials, autoconnect: false, useWSSecurity: false, timeout: 5000 });
      await call((cb) => cam.getSystemDateAndTime(cb));
      await call((cb) => cam.getServices(true, cb));
      assert.match(cam.uri!.events!.href, /\/onvif\/events_service$/);
      const sub = await call<any>((cb) => cam.createPullPointSubscription(cb));
      assert.match(sub.subscriptionReference.address.href, /\/onvif\/pullpoint\/\d+$/);
      assert.equal(dev.pullPoints.length, 1);
      const burst = list((await call<any>((cb) => cam.pullMessages({ messageLimit: 100 }, cb))).notificationMessage);
      assert.equal(burst.length, 11);
      assert.ok(burst.every((m) => m.message.message.$.PropertyOperation === 'Initialized'));
      dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
      const next = list((await call<any>((cb) => cam.pullMessages({ messageLimit: 100 }, cb))).notificationMessage);
      assert.equal(next.length, 1);
      assert.equal(next[0]!.topic._.trim(), MOTION);
      assert.deepEqual(dataOf(next[0]!), { IsMotion: true }, 'the npm client parses the boolean');
      await call((cb) => cam.unsubscribe((err) => cb(err, undefined)));
      assert.equal(dev.pullPoints.length, 0);
    } finally {
      await dev.stop();
    }
  });

  it("its 'event' listener loop (WS-UsernameToken, PullMessages + Renew) delivers a raised motion event", async () => {
    const dev = new SimulatedDevice({ ...credentials, processorUsageIntervalMs: 0 });
    await dev.start();
    const cam = new Cam({ hostname: '127.0.0.1', port: dev.port, ...credentials, autoconnect: false, timeout: 5000 });
    try {
      await call((cb) => cam.getSystemDateAndTime(cb));
      await call((cb) => cam.getServices(true, cb));
      const motion = new Promise<NpmNotification>((resolve) => {
        cam.on('event', (m) => {
          if (m.topic._.trim() === MOTION && m.message.message.$.PropertyOperation === 'Changed') resolve(m);
        });
      });
      // Raise once the loop has taken the Initialized burst and renewed (a pull is waiting again).
      const raise = setInterval(() => {
        if (dev.pullPoints[0]?.pulling && dev.stats.byOperation.Renew) {
          clearInterval(raise);
          dev.raiseEvent(MOTION, { data: { IsMotion: 'true' } });
        }
      }, 20);
      const got = await motion;
      clearInterval(raise);
      assert.deepEqual(dataOf(got), { IsMotion: true });
    } finally {
      cam.removeAllListeners('event');
      await dev.stop();
    }
  });
});
