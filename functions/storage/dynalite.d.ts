/** The part of dynalite's (untyped, CommonJS) API that local-dynamodb.ts uses. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB folder; in-memory when absent. */
    path?: string;
    /** How long tables stay CREATING / DELETING / UPDATING (default 500 ms each). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }

  /** Creates (does not start) an HTTP server speaking the DynamoDB API; close() also closes the store. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
