import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

/**
 * Register an input handler that always gets `send` and `done`: Node-RED before 1.0 passes neither, so fall back
 * to node.send and to node.error (which still reaches a Catch node).
 */
export function onInput(node: Node, handler: (msg: NodeMessageInFlow, send: SendFn, done: DoneFn) => void): void {
  node.on('input', (msg: NodeMessageInFlow, send?: SendFn, done?: DoneFn) => {
    handler(
      msg,
      send || node.send.bind(node),
      done ||
        ((err?: Error) => {
          if (err) node.error(err, msg);
        }),
    );
  });
}
