/**
 * The local DynamoDB of `npm start` (dynalite) is closed to web pages: a page the developer opens
 * in real Chromium tries what an attacker's page would — read the client registrations with a
 * CORS fetch, write with a no-cors "simple" POST that needs no preflight — and gets nothing, while
 * the AWS SDK in a local process keeps working.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListTablesCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { type LocalDynamo, startLocalDynamo } from '../../functions/storage/local-dynamodb.js';
import { ensureTable } from '../../functions/storage/table.js';
import { launchChromium } from '../support/browser.js';

const TABLE = 'myna-oidc';
const SECRET = 'rp-client-secret-0123456789abcdef';
let dynamo: LocalDynamo;
let page: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await ensureTable(dynamo.client, TABLE);
  await dynamo.client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { pk: { S: 'Client' }, sk: { S: 'rp' }, secret: { S: SECRET } },
    }),
  );
  // The attacker's page: another origin on loopback (no Private Network Access prompt in between).
  page = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>some page</title>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => page?.close(() => resolve()));
  await dynamo?.close();
});

describe('the local DynamoDB and web pages', () => {
  it('answers a local process (the AWS SDK)', async () => {
    expect((await dynamo.client.send(new ListTablesCommand({}))).TableNames).toContain(TABLE);
  });

  it('gives a page from another origin neither a read nor a write', async () => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(pageUrl);
      const outcome = await tab.evaluate(
        async ({ endpoint, table }) => {
          const target = (name: string) => ({ 'x-amz-target': `DynamoDB_20120810.${name}` });
          let read: string;
          try {
            const response = await fetch(endpoint, {
              method: 'POST',
              // dynalite takes any signature: a made-up one is all a page needs.
              headers: {
                'content-type': 'application/x-amz-json-1.0',
                'x-amz-date': '20260101T000000Z',
                authorization:
                  'AWS4-HMAC-SHA256 Credential=AKIDPAGE/20260101/ap-northeast-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
                ...target('Scan'),
              },
              body: JSON.stringify({ TableName: table }),
            });
            read = `read ${response.status}: ${await response.text()}`;
          } catch (error) {
            read = `blocked: ${(error as Error).name}`;
          }
          // A simple request (no preflight): the page cannot read the answer, but could it write?
          await fetch(endpoint, {
            method: 'POST',
            mode: 'no-cors',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ TableName: table, Item: { pk: { S: 'Client' }, sk: { S: 'evil' } } }),
          }).catch(() => undefined);
          return read;
        },
        { endpoint: dynamo.endpoint, table: TABLE },
      );
      expect(outcome).toBe('blocked: TypeError');
    } finally {
      await context.close();
    }
    const items = (await dynamo.client.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    expect(items.map((item) => item.sk?.S)).toEqual(['rp']);
  }, 60_000);
});
