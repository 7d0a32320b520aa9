import { ConflictError } from './errors';

// Same rule as the protocol's NodeIdSchema; restated here because conflict imports no workspace package.
const nodeIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export function assertNodeId(nodeId: string): void {
  if (!nodeIdPattern.test(nodeId)) {
    throw new ConflictError('INVALID_NODE_ID', `node id must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(nodeId)}`);
  }
}
