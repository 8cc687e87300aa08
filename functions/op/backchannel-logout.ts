/**
 * RP-initiated logout's back-channel deliveries with durable retries: instead of oidc-provider's
 * single POST (Client#backchannelLogout), each logout is queued (storage/logout-queue.ts, id
 * `logout:<sid>#<client id>`) and tried once at once by the one sender the revocation job uses
 * (revocation/notification/backchannel-sender.ts). A delivery that fails is logged
 * (`backchannel.delivery_failed`) and retried by the scheduled job's later runs on the same
 * schedule, until it is delivered or `failed`. The logout token names the `sub` the client knows
 * (subject/subject-for.ts) and the client's `sid` of the session.
 */
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { BackchannelSender, noDeliveries } from '../revocation/notification/backchannel-sender.js';
import { InProcessLogoutTokenSigner } from '../revocation/notification/logout-token-signer.js';
import { PrivateRpHosts } from '../revocation/notification/private-network.js';
import { subjectFor } from '../subject/subject-for.js';
import type { ResolvedOpConfig } from './config.js';

/** The part of oidc-provider's Client that a back-channel logout reads. */
interface LogoutClient {
  readonly clientId: string;
  readonly backchannelLogoutUri?: string;
  readonly idTokenSignedResponseAlg?: string;
  metadata(): ClientMetadata;
}

/**
 * The OP's sender of queued logouts (the one attempt at once of RP-initiated logout and of the
 * account page, accounts/op-account-services.ts).
 */
export function opBackchannelSender(provider: Provider, config: ResolvedOpConfig): BackchannelSender {
  return new BackchannelSender({
    queue: config.storage.logoutQueue,
    issuer: config.issuer,
    // The OP holds the signing keys itself; the signer checks what it signs all the same.
    signer: new InProcessLogoutTokenSigner({
      issuer: config.issuer,
      secrets: config.secrets,
      findClient: async (clientId) => (await provider.Client.find(clientId))?.metadata(),
    }),
    privateRpHosts: new PrivateRpHosts(config.privateRpHosts),
    logger: config.logger,
  });
}

/** Routes `provider`'s back-channel logouts through the queue and the sender (see the module comment). */
export function queueBackchannelLogouts(provider: Provider, config: ResolvedOpConfig): void {
  const queue = config.storage.logoutQueue;
  const sender = opBackchannelSender(provider, config);
  const prototype = provider.Client.prototype as unknown as {
    backchannelLogout(this: LogoutClient, accountId: string, sid: string): Promise<void>;
  };
  prototype.backchannelLogout = async function backchannelLogout(accountId, sid) {
    const uri = this.backchannelLogoutUri;
    if (uri === undefined) return;
    const delivery = await queue.enqueue(
      {
        id: `logout:${sid}#${this.clientId}`,
        clientId: this.clientId,
        uri,
        sub: subjectFor(config.secrets.pairwiseSecret, this.metadata(), accountId),
        sid,
        alg: this.idTokenSignedResponseAlg ?? 'RS256',
        accountId,
      },
      new Date(),
    );
    // One attempt now, so the user is not kept waiting; later runs of the job retry.
    if (delivery) await sender.send(delivery, noDeliveries(), 1);
  };
}
