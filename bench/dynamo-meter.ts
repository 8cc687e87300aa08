/**
 * A meter on a DynamoDB client: a middleware records every command the client sends (name, start,
 * end, consumed capacity), so benches and tests count what a flow really costs instead of
 * estimating it by hand.
 *
 * - Capacity: the meter asks for `ReturnConsumedCapacity: 'TOTAL'` on the item commands and sums
 *   what the service returns (dynalite computes it by DynamoDB's rules: writes 1 unit per started
 *   KB of the larger of the old and new item, reads 1 unit per started 4 KB strongly consistent,
 *   half that eventually consistent). dynalite leaves out two things real DynamoDB charges, which
 *   the meter adds itself: a write whose condition fails still costs 1 WCU, and a PutItem of an item
 *   (alone or in a BatchWriteItem) of an item carrying the grant-id index key writes that
 *   (keys-only, < 1 KB) index entry: 1 more WCU.
 * - Sequential calls: the longest chain of calls where each starts after the previous one ended
 *   (calls in flight together, as with Promise.all, are not chained): the DynamoDB round trips a
 *   user waits for one after another.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GRANT_INDEX, PARTITION_KEY } from '../functions/storage/table.js';

/** One command the client sent. */
export interface MeteredCall {
  /** The command name, e.g. "GetItem". */
  readonly command: string;
  /** process.hrtime.bigint() at send and at completion. */
  readonly start: bigint;
  readonly end: bigint;
  readonly readUnits: number;
  readonly writeUnits: number;
  /**
   * The kind of item it addressed (the partition key up to `#`, e.g. "Session"); for a batch, the
   * kinds of its items joined with `+` in request order (e.g. "Grant+AuthorizationCode").
   */
  readonly kind?: string;
  /** The error's name when the call failed (e.g. ConditionalCheckFailedException). */
  readonly error?: string;
}

/** The figures of a list of calls. */
export interface MeterSummary {
  readonly calls: number;
  /** Calls per command name, e.g. { GetItem: 4, PutItem: 3 }. */
  readonly byCommand: Readonly<Record<string, number>>;
  /** The longest chain of calls that waited on each other. */
  readonly sequential: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);
const READ_COMMANDS: ReadonlySet<string> = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
]);

interface Capacity {
  readonly CapacityUnits?: number;
}

function unitsOf(consumed: Capacity | Capacity[] | undefined): number {
  if (consumed === undefined) return 0;
  return (Array.isArray(consumed) ? consumed : [consumed]).reduce(
    (sum, c) => sum + (c.CapacityUnits ?? 0),
    0,
  );
}

/** Records the calls of one DynamoDB client from `meterDynamo` on. */
export class DynamoMeter {
  readonly #calls: MeteredCall[] = [];

  /** The calls recorded since the last reset, in completion order. */
  get calls(): readonly MeteredCall[] {
    return this.#calls;
  }

  /** Forgets the calls recorded so far. */
  reset(): void {
    this.#calls.length = 0;
  }

  record(call: MeteredCall): void {
    this.#calls.push(call);
  }

  /** Counts, critical path and capacity of the calls recorded since the last reset. */
  summary(): MeterSummary {
    const byCommand: Record<string, number> = {};
    for (const call of this.#calls) byCommand[call.command] = (byCommand[call.command] ?? 0) + 1;
    return {
      calls: this.#calls.length,
      byCommand,
      sequential: longestChain(this.#calls),
      readUnits: this.#calls.reduce((sum, call) => sum + call.readUnits, 0),
      writeUnits: this.#calls.reduce((sum, call) => sum + call.writeUnits, 0),
    };
  }
}

/**
 * The number of calls on the longest chain a₁ → a₂ → … where each aᵢ₊₁ started after aᵢ ended
 * (longest path in the interval order; O(n²), n is a few dozen).
 */
export function longestChain(calls: readonly Pick<MeteredCall, 'start' | 'end'>[]): number {
  const sorted = [...calls].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const chain: number[] = [];
  let longest = 0;
  for (const [i, call] of sorted.entries()) {
    let before = 0;
    for (let j = 0; j < i; j++) {
      const earlier = sorted[j] as MeteredCall;
      if (earlier.end <= call.start) before = Math.max(before, chain[j] as number);
    }
    chain.push(before + 1);
    longest = Math.max(longest, before + 1);
  }
  return longest;
}

type ItemInput = Record<string, { S?: string }>;

/** True when an item carries the grant-id index's key attributes (so the index holds it too). */
function inGrantIndex(item: ItemInput | undefined): boolean {
  return item?.[GRANT_INDEX.partitionKey] !== undefined && item?.[GRANT_INDEX.sortKey] !== undefined;
}

/** The index entries a PutItem or BatchWriteItem writes: 1 WCU each (keys only, < 1 KB). */
function indexWrites(command: string, input: MeteredInput): number {
  if (command === 'PutItemCommand') return inGrantIndex(input.Item) ? 1 : 0;
  if (command !== 'BatchWriteItemCommand') return 0;
  return Object.values(input.RequestItems ?? {})
    .flatMap((requests) => (Array.isArray(requests) ? requests : []))
    .filter((request) => inGrantIndex(request.PutRequest?.Item)).length;
}

interface MeteredInput {
  ReturnConsumedCapacity?: string;
  Item?: ItemInput;
  Key?: ItemInput;
  RequestItems?: Record<
    string,
    { PutRequest?: { Item?: ItemInput }; DeleteRequest?: { Key?: ItemInput } }[] | { Keys?: ItemInput[] }
  >;
}

/** The kind of an item: its partition key up to `#`. */
function kindOf(item: ItemInput | undefined): string | undefined {
  return item?.[PARTITION_KEY]?.S?.split('#')[0];
}

/** The kinds of the items a command addresses (see MeteredCall.kind). */
function kindsOf(input: MeteredInput): string | undefined {
  const single = kindOf(input.Key ?? input.Item);
  if (single !== undefined || input.RequestItems === undefined) return single;
  const items = Object.values(input.RequestItems).flatMap((requests) =>
    Array.isArray(requests)
      ? requests.map((request) => request.PutRequest?.Item ?? request.DeleteRequest?.Key)
      : (requests.Keys ?? []),
  );
  return items.map((item) => kindOf(item) ?? '?').join('+');
}

/** Adds the meter's middleware to `client`; returns the meter. */
export function meterDynamo(client: DynamoDBClient): DynamoMeter {
  const meter = new DynamoMeter();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      const isWrite = WRITE_COMMANDS.has(name);
      const input = args.input as MeteredInput;
      if (isWrite || READ_COMMANDS.has(name)) input.ReturnConsumedCapacity = 'TOTAL';
      const command = name.replace(/Command$/, '');
      const indexUnits = indexWrites(name, input);
      const kind = kindsOf(input);
      const start = process.hrtime.bigint();
      try {
        const result = await next(args);
        const units = unitsOf(
          (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity,
        );
        meter.record({
          command,
          kind,
          start,
          end: process.hrtime.bigint(),
          readUnits: isWrite ? 0 : units,
          writeUnits: isWrite ? units + indexUnits : 0,
        });
        return result;
      } catch (error) {
        meter.record({
          command,
          kind,
          start,
          end: process.hrtime.bigint(),
          readUnits: 0,
          writeUnits: isWrite ? 1 : 0,
          error: error instanceof Error ? error.name : 'Error',
        });
        throw error;
      }
    },
    // Low priority: inside the request scope's middleware, so only calls that reach DynamoDB count.
    { step: 'initialize', priority: 'low', name: 'dynamoMeter' },
  );
  return meter;
}
