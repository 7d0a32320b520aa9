import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { authPayload } from '@sync/protocol';

/** A fresh nonce per connection binds each proof to that connection, so a recorded proof cannot be replayed. */
export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

export function proveIdentity(secret: string, verifierNonce: string, prover: string, verifier: string): string {
  return createHmac('sha256', secret).update(authPayload(verifierNonce, prover, verifier)).digest('hex');
}

export function proofMatches(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(received, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
