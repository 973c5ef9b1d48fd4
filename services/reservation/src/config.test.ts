import { describe, expect, it } from 'vitest';
import { ConfigError, configDocs, loadConfig } from './config.js';

describe('config', () => {
  it('when nothing is set, then every setting has its default', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      ROLE: 'both',
      STREAM_NAME: 'RESERVATIONS',
      LOG_LEVEL: 'info',
    });
  });

  it('when values are set, then they are parsed to their types; empty strings count as unset', () => {
    const c = loadConfig({
      PORT: '0',
      ROLE: 'worker',
      BATCH_SIZE: '50',
      TRUST_PROXY: 'true',
      LOG_LEVEL: '',
    });
    expect(c).toMatchObject({
      PORT: 0,
      ROLE: 'worker',
      BATCH_SIZE: 50,
      TRUST_PROXY: true,
      LOG_LEVEL: 'info',
    });
  });

  it('when values are bad, then it fails fast naming each variable', () => {
    const bad = () =>
      loadConfig({ PORT: '70000', ROLE: 'boss', BATCH_SIZE: 'many', STREAM_NAME: 'a.b' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/PORT[\s\S]*ROLE[\s\S]*STREAM_NAME[\s\S]*BATCH_SIZE|PORT/);
    try {
      bad();
    } catch (err) {
      for (const v of ['PORT', 'ROLE', 'BATCH_SIZE', 'STREAM_NAME'])
        expect((err as Error).message).toContain(v);
    }
  });

  it('documents every setting in one line', () => {
    expect(configDocs.length).toBeGreaterThan(20);
    for (const d of configDocs) expect(d.doc).toMatch(/^\S.*\S$/);
  });
});
