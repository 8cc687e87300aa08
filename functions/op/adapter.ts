/** oidc-provider storage adapters come as a class or a factory; this gives the adapter of one model. */
import type { Adapter, AdapterConstructor, AdapterFactory } from 'oidc-provider';

/** What OpConfig.storage.adapter accepts: what oidc-provider's `adapter` option accepts. */
export type OpAdapter = AdapterConstructor | AdapterFactory;

/** The adapter instance for `model` (e.g. "Client", or the OP's own "MynaSealedClaims"). */
export function adapterFor(adapter: OpAdapter, model: string): Adapter {
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(adapter));
  return isClass ? new (adapter as AdapterConstructor)(model) : (adapter as AdapterFactory)(model);
}
