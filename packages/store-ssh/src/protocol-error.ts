import { StoreError } from '@desync/core';

/**
 * The peer broke the casync protocol (a malformed, oversized or unexpected message, a stream
 * cut mid-message) or aborted the session with an ABORT message. `store` names the peer (a
 * host and path, or `stdin` for the pull server); the code is STORE_ERROR, like every other
 * failure of a store that is neither a missing nor a corrupt chunk.
 */
export class ProtocolError extends StoreError {
  constructor(peer: string, reason: string, options?: ErrorOptions) {
    super(peer, reason, options);
  }
}
