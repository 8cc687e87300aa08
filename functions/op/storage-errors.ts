/**
 * Storage raises its own errors (storage/errors.ts) and knows nothing of oidc-provider; this maps
 * the one a client can cause to what oidc-provider answers: a second redemption of a code or
 * refresh token (StorageError ALREADY_CONSUMED) becomes InvalidGrant, so the token endpoint says
 * `invalid_grant` (400) instead of a 500; a DPoP proof or client assertion id stored meanwhile by a
 * concurrent request (StorageError ALREADY_SEEN, the conditional ReplayDetection upsert) makes
 * `ReplayDetection.unique` answer false, as for one found, so oidc-provider refuses the replay with
 * its own error (`invalid_dpop_proof`, `invalid_client`). Every other failure passes through unchanged.
 */
import Provider, { type Adapter, type AdapterFactory, errors } from 'oidc-provider';
import { StorageError } from '../storage/errors.js';
import { adapterFor, type OpAdapter } from './adapter.js';

/** `adapter` with its consume() failures mapped to oidc-provider's InvalidGrant. */
export function withOidcErrors(adapter: OpAdapter): AdapterFactory {
  return (model: string): Adapter => {
    const inner = adapterFor(adapter, model);
    // consume, and the save of a token issued on a consume still in flight (op/storage-reads.ts).
    const mapped =
      <A extends unknown[]>(write: (...args: A) => Promise<void>) =>
      async (...args: A): Promise<void> => {
        try {
          await write(...args);
        } catch (error) {
          if (error instanceof StorageError && error.code === 'ALREADY_CONSUMED') {
            throw new errors.InvalidGrant(error.message);
          }
          throw error;
        }
      };
    const consume = mapped(inner.consume.bind(inner));
    const upsert = mapped(inner.upsert.bind(inner));
    return new Proxy(inner, {
      get(target, property) {
        if (property === 'consume') return consume;
        if (property === 'upsert') return upsert;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

/** Makes `provider.ReplayDetection.unique` answer false when its save lost a race (see the module comment). */
export function refuseConcurrentReplays(provider: Provider): void {
  const { ReplayDetection } = provider;
  const unique = ReplayDetection.unique.bind(ReplayDetection);
  ReplayDetection.unique = async (iss, jti, exp) => {
    try {
      return await unique(iss, jti, exp);
    } catch (error) {
      if (error instanceof StorageError && error.code === 'ALREADY_SEEN') return false;
      throw error;
    }
  };
}
