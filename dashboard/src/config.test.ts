import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig, secretSettings } from './config.js';

describe('config', () => {
  it('when nothing is set, then every default is valid', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.STREAM_INTERVAL_MS).toBeGreaterThanOrEqual(1000);
    expect(c.STREAM_INTERVAL_MS).toBeLessThanOrEqual(2000);
  });

  it('when values are bad, then one error names every bad variable', () => {
    expect(() =>
      loadConfig({ PORT: 'x', PROMETHEUS_URL: 'ftp://h', STREAM_INTERVAL_MS: '5000' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'x', PROMETHEUS_URL: 'ftp://h', STREAM_INTERVAL_MS: '5000' });
    } catch (e) {
      expect((e as Error).message).toMatch(/PORT[\s\S]*PROMETHEUS_URL[\s\S]*STREAM_INTERVAL_MS/);
    }
  });

  it('when a selector is not PromQL matchers, then it is refused', () => {
    expect(() => loadConfig({ PROMETHEUS_SELECTOR: 'job=reservation}' })).toThrow(ConfigError);
    expect(
      loadConfig({ PROMETHEUS_SELECTOR: 'job="a", namespace=~"f.*"' }).PROMETHEUS_SELECTOR,
    ).toBe('job="a", namespace=~"f.*"');
  });

  it('when asked for help, then every setting is listed and secrets are marked', () => {
    const h = helpText();
    expect(h).toContain('PROMETHEUS_URL');
    expect(h).toMatch(/ADMIN_TOKEN .*\(secret\)/);
    expect(secretSettings).toEqual(['PROMETHEUS_BEARER_TOKEN', 'ADMIN_TOKEN']);
  });
});
