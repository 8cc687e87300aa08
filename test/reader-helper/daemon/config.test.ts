import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_HELPER_PORT } from '../../../protocol/helper-protocol.js';
import { defaultConfigPath, readConfigFile, resolveHelperConfig } from '../../../reader-helper/config.js';
import { OriginPolicy } from '../../../reader-helper/daemon/origin-policy.js';

describe('helper configuration', () => {
  it('lives at the OS-conventional path', () => {
    expect(defaultConfigPath({ platform: 'linux', env: {}, home: '/home/u' })).toBe(
      '/home/u/.config/myna-helper/config.json',
    );
    expect(defaultConfigPath({ platform: 'linux', env: { XDG_CONFIG_HOME: '/x' }, home: '/home/u' })).toBe(
      '/x/myna-helper/config.json',
    );
    expect(defaultConfigPath({ platform: 'darwin', env: {}, home: '/Users/u' })).toBe(
      '/Users/u/Library/Application Support/myna-helper/config.json',
    );
    expect(
      defaultConfigPath({
        platform: 'win32',
        env: { APPDATA: 'C:/Users/u/AppData/Roaming' },
        home: 'C:/Users/u',
      }),
    ).toBe(join('C:/Users/u/AppData/Roaming', 'myna-helper', 'config.json'));
  });

  it('merges the file with flags: flag port wins, origins add up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helper-config-'));
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ allowedOrigins: ['https://a.example'], port: 50000 }));
    const file = await readConfigFile(path, true);
    expect(resolveHelperConfig(file, {})).toEqual({
      port: 50000,
      dev: false,
      allowedOrigins: ['https://a.example'],
    });
    expect(
      resolveHelperConfig(file, { port: 50001, allowOrigins: ['https://b.example', 'https://a.example'] }),
    ).toEqual({
      port: 50001,
      dev: false,
      allowedOrigins: ['https://a.example', 'https://b.example'],
    });
    expect(resolveHelperConfig({}, {}).port).toBe(DEFAULT_HELPER_PORT);
  });

  it('treats a missing default file as empty but a missing --config file as an error', async () => {
    const missing = join(tmpdir(), 'no-such-dir-helper', 'config.json');
    await expect(readConfigFile(missing, false)).resolves.toEqual({});
    await expect(readConfigFile(missing, true)).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
  });

  it('rejects malformed files with CONFIG_INVALID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helper-config-'));
    for (const text of [
      '{',
      '[]',
      '{"allowedOrigin":[]}',
      '{"allowedOrigins":"https://a.example"}',
      '{"port":"1"}',
    ]) {
      await writeFile(join(dir, 'c.json'), text);
      await expect(readConfigFile(join(dir, 'c.json'), true)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
      });
    }
  });

  it('allows http origins only on loopback hosts, each listed; refuses non-canonical origins', () => {
    expect(() => resolveHelperConfig({ allowedOrigins: ['http://login.example'] }, {})).toThrow(
      /must be https/,
    );
    expect(resolveHelperConfig({}, { allowOrigins: ['http://localhost:3000'] }).allowedOrigins).toEqual([
      'http://localhost:3000',
    ]);
    expect(() => resolveHelperConfig({}, { allowOrigins: ['http://192.168.1.2:3000'] })).toThrow(
      /must be https/,
    );
    // "listed with a port": a port-less loopback origin (port 80) is refused, as the message says.
    for (const portless of ['http://localhost', 'http://127.0.0.1', 'http://[::1]']) {
      expect(() => resolveHelperConfig({ allowedOrigins: [portless] }, {})).toThrow(
        /listed with a port other than 80/,
      );
    }
    expect(() => resolveHelperConfig({}, { allowOrigins: ['http://login.example'], dev: true })).toThrow(
      /must be https/,
    );
    expect(
      resolveHelperConfig({}, { allowOrigins: ['http://localhost:3000'], dev: true }).allowedOrigins,
    ).toEqual(['http://localhost:3000']);
    expect(() => resolveHelperConfig({}, { allowOrigins: ['https://A.example'] })).toThrow(
      /exactly as https:\/\/a.example/,
    );
    expect(() => resolveHelperConfig({}, { allowOrigins: ['https://a.example/'] })).toThrow(/trailing slash/);
    expect(() => resolveHelperConfig({}, { allowOrigins: ['https://a.example/path'] })).toThrow(/no path/);
    expect(() => resolveHelperConfig({}, { port: 70000 })).toThrow(/port/);
  });
});

describe('origin policy', () => {
  it('accepts exact listed origins, and loopback http origins only in development mode', () => {
    const production = new OriginPolicy(['https://login.example'], false);
    expect(production.accept('https://login.example')).toBe('https://login.example');
    for (const header of [
      undefined,
      'https://LOGIN.example',
      'https://login.example:443',
      'http://localhost:3000',
      'null',
    ]) {
      expect(production.accept(header)).toBeUndefined();
    }
    const dev = new OriginPolicy([], true);
    for (const header of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:9000']) {
      expect(dev.accept(header)).toBe(header);
    }
    expect(dev.accept('http://localhost.evil.example:3000')).toBeUndefined();
    expect(dev.accept('https://localhost:3000')).toBeUndefined();
  });
});
