import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatBytes,
  formatCountdown,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
} from './format.js';

describe('formatting for people', () => {
  it('numbers get separators and units; missing ones a dash', () => {
    expect(formatNumber(1234)).toBe('1,234');
    expect(formatNumber(1_234_567)).toBe('1.23 M');
    expect(formatNumber(2_500_000_000)).toBe('2.5 B');
    expect(formatNumber(0.456)).toBe('0.46');
    expect(formatNumber(0.045)).toBe('0.045');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(Number.NaN)).toBe('—');
  });

  it('rates, durations, bytes and shares fit their size', () => {
    expect(formatRate(0.5)).toBe('0.5/s');
    expect(formatRate(1234)).toBe('1,234/s');
    expect(formatRate(12_345)).toBe('12.3k/s');
    expect(formatMs(0.85)).toBe('850 µs');
    expect(formatMs(3.456)).toBe('3.46 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(1500)).toBe('1.5 s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(70 * 1024 * 1024)).toBe('70 MiB');
    expect(formatPercent(0.0123)).toBe('1.2%');
    expect(formatPercent(0.00123)).toBe('0.12%');
    expect(formatPercent(0.5)).toBe('50%');
    expect(formatPercent(0)).toBe('0%');
  });

  it('countdowns and ages read as words', () => {
    expect(formatCountdown(0)).toBe('open');
    expect(formatCountdown(-5)).toBe('open');
    expect(formatCountdown(9)).toBe('opens in 9 s');
    expect(formatCountdown(249)).toBe('opens in 4 m 09 s');
    expect(formatCountdown(2 * 3600 + 5 * 60)).toBe('opens in 2 h 05 m');
    expect(formatCountdown(2 * 86400 + 3600)).toBe('opens in 2 d 01 h');
    expect(formatCountdown(0.2)).toBe('opens in 1 s');
    expect(formatAge(45)).toBe('45s');
    expect(formatAge(300)).toBe('5m');
    expect(formatAge(7200)).toBe('2h');
    expect(formatAge(200_000)).toBe('2d');
  });
});
