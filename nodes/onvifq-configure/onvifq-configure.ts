import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Subscription } from 'rxjs';
import { isOnvifError } from '../../lib/errors';
import type { DeviceLink } from '../../lib/device/link';
import type { DeviceConfigNode } from '../shared/device-config';
import { inputError, toNodeError } from '../shared/errors';
import { callFailedStatus, linkStatus } from '../shared/status';
import { CONFIGURE_OPERATIONS, DEFAULT_PARAMS, OPERATION_FROM_MSG, isConfigureOperation, type ConfigureOperation } from './operations';

interface ConfigureDef extends NodeDef {
  device?: string;
  operation?: string;
}

type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
type DoneFn = (err?: Error) => void;

export default function (RED: NodeAPI): void {
  function OnvifqConfigureNode(this: Node, def: ConfigureDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.device ? (RED.nodes.getNode(def.device) as DeviceConfigNode | null) : null;
    const setting = def.operation || 'GetDeviceInformation';
    let subscription: Subscription | undefined;
    let link: DeviceLink | undefined;

    if (!config) {
      node.status({ fill: 'red', shape: 'ring', text: 'no device' });
    } else {
      try {
        link = config.link();
        subscription = link.state$.subscribe((state) => node.status(linkStatus(state)));
        // Connect now, so the status tells the truth before the first message. Failures show in the status
        // and retry in the background; a message sent meanwhile gets its own error.
        link.device().catch(() => undefined);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'bad config' });
        node.error(toNodeError(err, config.label).message);
      }
    }

    node.on('input', (msg: NodeMessageInFlow, send: SendFn, done: DoneFn) => {
      // Node-RED before 1.0 passes neither send nor done.
      send = send || node.send.bind(node);
      done =
        done ||
        ((err?: Error) => {
          if (err) node.error(err, msg);
        });
      void handle(msg, send, done);
    });

    async function handle(msg: NodeMessageInFlow, send: SendFn, done: DoneFn): Promise<void> {
      if (!config) {
        done(inputError('No device is selected. Open the node and choose or add an onvifq-device config node.'));
        return;
      }
      const operation = pickOperation(msg);
      if (typeof operation !== 'string') {
        done(operation);
        return;
      }
      const params = pickParams(operation, msg.payload);
      if (params instanceof Error) {
        done(params);
        return;
      }
      let activeLink: DeviceLink;
      try {
        activeLink = config.link();
      } catch (err) {
        done(toNodeError(err, config.label, [config.credentials?.password]));
        return;
      }
      try {
        const result = await activeLink.call(operation, params);
        msg.payload = result;
        msg.device = config.msgDevice();
        node.status(linkStatus(activeLink.state));
        send(msg);
        done();
      } catch (err) {
        // Link-level trouble (retrying, auth failed) already shows through state$; a failed call shows its own.
        const state = activeLink.state.status;
        if (isOnvifError(err) && err.kind === 'invalid-input') {
          // The library checks the parameters against the schema before sending anything.
          done(inputError(`msg.payload does not fit ${operation}: ${err.message.replace(/\.$/, '')}. Nothing was sent to the device.`));
          return;
        }
        if (state === 'connected') node.status(callFailedStatus(isOnvifError(err) ? err : undefined));
        done(toNodeError(err, config.label, [config.credentials?.password]));
      }
    }

    function pickOperation(msg: NodeMessageInFlow): ConfigureOperation | Error {
      let name: unknown = setting;
      let from = 'the node setting';
      if (setting === OPERATION_FROM_MSG) {
        if (msg.operation !== undefined && msg.operation !== '') {
          name = msg.operation;
          from = 'msg.operation';
        } else {
          name = msg.topic;
          from = 'msg.topic';
        }
        if (name === undefined || name === '') {
          return inputError(`No operation given: set msg.operation or msg.topic to one of ${CONFIGURE_OPERATIONS.join(', ')}.`);
        }
      }
      if (!isConfigureOperation(name)) {
        const shown = typeof name === 'string' ? `'${name.slice(0, 60)}'` : `a ${typeof name}`;
        return inputError(`Unknown operation ${shown} in ${from}. This node supports ${CONFIGURE_OPERATIONS.join(', ')}.`);
      }
      return name;
    }

    function pickParams(operation: ConfigureOperation, payload: unknown): Record<string, unknown> | Error {
      const defaults = DEFAULT_PARAMS[operation] ?? {};
      // An inject node's timestamp (or no payload at all) is a trigger, not parameters.
      if (payload === undefined || payload === null || payload === '' || typeof payload === 'number') return { ...defaults };
      if (typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) {
        const what = Array.isArray(payload) ? 'an array' : Buffer.isBuffer(payload) ? 'a Buffer' : `a ${typeof payload}`;
        return inputError(`msg.payload is ${what}; ${operation} takes its parameters from msg.payload as an object (or no payload). Nothing was sent.`);
      }
      return { ...defaults, ...(payload as Record<string, unknown>) };
    }

    node.on('close', (done: () => void) => {
      subscription?.unsubscribe();
      subscription = undefined;
      link = undefined;
      done();
    });
  }

  RED.nodes.registerType('onvifq-configure', OnvifqConfigureNode as never);
}
