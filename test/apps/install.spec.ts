import { strict as assert } from 'node:assert';
import { AppError, type AppProgress } from '../../lib/apps';
import { counterPackage, useApps } from './support';

describe('apps: install and update, confirmed', function () {
  this.timeout(60_000);
  const env = useApps();

  it('install: uploads, follows Installing to Active through the state event, and verifies with GetAppsInfo', async () => {
    const s = await env.sim();
    const apps = env.manager(s);
    const progress: AppProgress[] = [];
    const r = await apps.install(counterPackage('1.0.0'), { onProgress: (p) => progress.push(p) });
    assert.equal(r.appId, 'Counter');
    assert.equal(r.name, 'People counter');
    assert.equal(r.version, '1.0.0');
    assert.equal(r.state, 'Active');
    assert.equal(r.via, 'events');
    assert.equal(r.updated, false);
    assert.equal(r.contentType, 'application/vnd.onvifq.sim-app');
    assert.equal(s.appStates.Counter, 'Active');
    const phases = progress.map((p) => p.phase);
    assert.ok(phases.includes('uploading') && phases.includes('installing') && phases.at(-1) === 'done', phases.join(','));
    assert.equal(progress.filter((p) => p.phase === 'uploading').at(-1)!.percent, 100);
    assert.ok(progress.some((p) => p.phase === 'installing' && p.state === 'Installing'), 'the Installing event was seen');
  });
});
