import type { NodeMessage } from 'node-red';

/** What Node-RED (1.0 and newer; this package needs 3.1) passes an input handler to send messages on and to finish one. */
export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;
