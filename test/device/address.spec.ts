import { strict as assert } from 'node:assert';
import { deviceServiceUrl, reachableXaddr } from '../../lib/device/address';
import { OnvifError } from '../../lib/errors';

describe('device addresses', () => {
  it('accepts what users type and points at the device service', () => {
    assert.equal(deviceServiceUrl('192.168.1.20').toString(), 'http://192.168.1.20/onvif/device_service');
    assert.equal(deviceServiceUrl('cam.local:8080').toString(), 'http://cam.local:8080/onvif/device_service');
    assert.equal(deviceServiceUrl('https://cam.local').toString(), 'https://cam.local/onvif/device_service');
    assert.equal(deviceServiceUrl(' http://10.0.0.5:2020/onvif/device_service ').toString(), 'http://10.0.0.5:2020/onvif/device_service');
    assert.equal(deviceServiceUrl('http://[fe80::1]:80/onvif/services').toString(), 'http://[fe80::1]/onvif/services');
  });

  it('refuses empty addresses, other schemes and credentials in the URL, saying what to enter', () => {
    const refuse = (a: string, re: RegExp) =>
      assert.throws(() => deviceServiceUrl(a), (e: OnvifError) => e.kind === 'invalid-input' && re.test(e.message));
    refuse('', /No device address/);
    refuse('ftp://cam', /use http:\/\/ or https:\/\//);
    refuse('http://admin:secret@cam', /own fields/);
    refuse('http://exa mple', /not a valid device address/);
  });

  it('keeps the configured host when a device reports link-local, NAT or public addresses', () => {
    const configured = deviceServiceUrl('192.168.1.20');
    // Axis lists 169.254.x.x XAddrs; SUNBA reports a public IP: keep the path and port, use our host.
    assert.equal(reachableXaddr('http://169.254.12.7/onvif/events', configured), 'http://192.168.1.20/onvif/events');
    assert.equal(reachableXaddr('http://203.0.113.9:8999/onvif/event_service', configured), 'http://192.168.1.20:8999/onvif/event_service');
    // Same host: untouched.
    assert.equal(reachableXaddr('http://192.168.1.20:8000/onvif/events', configured), 'http://192.168.1.20:8000/onvif/events');
  });

  it('maps the origin the device reports for itself to the configured one, so port forwarding keeps working', () => {
    const configured = deviceServiceUrl('router.example:8081');
    const reportedDevice = 'http://192.168.1.20';
    assert.equal(reachableXaddr('http://192.168.1.20/onvif/events', configured, reportedDevice), 'http://router.example:8081/onvif/events');
    assert.equal(reachableXaddr('http://192.168.1.20:554/onvif/media', configured, reportedDevice), 'http://router.example:554/onvif/media');
  });

  it('falls back to the device service URL for a missing or malformed XAddr', () => {
    const configured = deviceServiceUrl('192.168.1.20');
    assert.equal(reachableXaddr('', configured), configured.toString());
    assert.equal(reachableXaddr('not a url', configured), configured.toString());
    assert.equal(reachableXaddr('http://10.0.0.1/onvif/a http://10.0.0.2/onvif/b', configured), 'http://192.168.1.20/onvif/a');
  });
});
