import { describe, it, expect } from 'vitest';
import { captureAttribution, readAttribution, ATTRIBUTION_TTL_MS } from '../../src/lib/attribution.js';
import { memoryStorage } from './memoryStorage.js';

describe('attribution in localStorage', () => {
  it('keeps c_id and u_id from the landing URL', () => {
    const s = memoryStorage();
    expect(captureAttribution('7', { c_id: 'wx_group', u_id: 'Ab3dE9xYz0' }, s, 1000)).toEqual({ cId: 'wx_group', uId: 'Ab3dE9xYz0' });
    expect(readAttribution('7', s, 2000)).toEqual({ cId: 'wx_group', uId: 'Ab3dE9xYz0' });
  });

  it('survives a later visit without the parameters (navigation, OAuth round trip)', () => {
    const s = memoryStorage();
    captureAttribution('7', { c_id: 'ch1', u_id: 'ref1' }, s, 1000);
    expect(captureAttribution('7', {}, s, 5000)).toEqual({ cId: 'ch1', uId: 'ref1' });
    expect(captureAttribution('7', { code: 'x', state: 'y' }, s, 6000)).toEqual({ cId: 'ch1', uId: 'ref1' });
  });

  it('lets a newer link replace one value and keep the other', () => {
    const s = memoryStorage();
    captureAttribution('7', { c_id: 'ch1', u_id: 'ref1' }, s, 1000);
    expect(captureAttribution('7', { u_id: 'ref2' }, s, 2000)).toEqual({ cId: 'ch1', uId: 'ref2' });
  });

  it('is kept per campaign', () => {
    const s = memoryStorage();
    captureAttribution('7', { u_id: 'ref1' }, s, 1000);
    expect(readAttribution('8', s, 1000)).toEqual({ cId: null, uId: null });
  });

  it('ignores values that are not opaque URL-safe codes', () => {
    const s = memoryStorage();
    expect(captureAttribution('7', { c_id: '<script>', u_id: 'a b' }, s, 1000)).toEqual({ cId: null, uId: null });
    expect(s.size).toBe(0);
    expect(captureAttribution('7', { u_id: ['first', 'second'] }, s, 1000).uId).toBe('first');
  });

  it('expires after the TTL', () => {
    const s = memoryStorage();
    captureAttribution('7', { u_id: 'ref1' }, s, 0);
    expect(readAttribution('7', s, ATTRIBUTION_TTL_MS + 1)).toEqual({ cId: null, uId: null });
  });

  it('does not break when storage throws', () => {
    const broken = {
      getItem() {
        throw new Error('denied');
      },
      setItem() {
        throw new Error('quota');
      },
      removeItem() {},
    };
    expect(captureAttribution('7', { u_id: 'ref1' }, broken, 0)).toEqual({ cId: null, uId: 'ref1' });
  });
});
