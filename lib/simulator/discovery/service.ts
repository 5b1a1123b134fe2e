import type { SimulatedService } from '../service';
import { canDiscoverOn, DiscoveryResponder, type DiscoverableDevice } from './responder';

export interface DiscoveryServiceOptions {
  /** Address the device listens on. */
  host: string;
  /** false: no discovery; an object: asked-for settings, whose failure fails the start. */
  discovery?: false | { port?: number; multicastInterface?: string };
  delayMs?: [number, number];
}

/**
 * WS-Discovery as a service of the simulated device: no SOAP endpoint over HTTP, only the responder's
 * life. It starts after the HTTP server listens (so the XAddr it announces works) and says Bye on stop;
 * reboots and changes it follows through the device's 'reboot', 'ready' and 'change' events.
 */
export class DiscoveryService implements SimulatedService {
  readonly name = 'discovery';
  private responder?: DiscoveryResponder;
  private failure?: string;

  constructor(
    private readonly device: DiscoverableDevice,
    private readonly options: DiscoveryServiceOptions,
  ) {}

  /** 'udp://host:port' where the responder answers, undefined when discovery is off. */
  get address(): string | undefined {
    return this.responder?.address;
  }

  /** Why default discovery is not running (its UDP port was taken), undefined when it runs or was turned off. */
  get problem(): string | undefined {
    return this.failure;
  }

  /** Answers probes from now on and says Hello. */
  async onStart(): Promise<void> {
    const d = this.options.discovery;
    // IPv4 only: with an IPv6 host the device simply has no discovery.
    if (d === false || this.responder || !canDiscoverOn(this.options.host)) return;
    let responder: DiscoveryResponder | undefined;
    try {
      // The constructor refuses bad settings; start() fails when the UDP port is taken.
      responder = new DiscoveryResponder(this.device, { host: this.options.host, port: d?.port, multicastInterface: d?.multicastInterface, delayMs: this.options.delayMs });
      await responder.start();
    } catch (e) {
      // Bad settings, or asked-for discovery that cannot run, fail the start; default discovery is a convenience the device can do without.
      if (d || !responder) throw e;
      this.failure = (e as Error).message;
      return;
    }
    this.failure = undefined;
    this.responder = responder;
  }

  /** Bye goes out while the device is still there. */
  async onStop(): Promise<void> {
    await this.responder?.stop();
    this.responder = undefined;
  }
}
