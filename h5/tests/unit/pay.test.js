import { describe, it, expect, vi } from 'vitest';
import { waitUntilPaid, withRedirect, successHref } from '../../src/lib/pay.js';
import { formatFen, formatTime } from '../../src/lib/format.js';

describe('H5 pay return and polling', () => {
  it('appends redirect_url to the provider URL', () => {
    expect(withRedirect('http://sim.test/pay?prepay_id=1', 'http://h.test/h5/#/p?a=1')).toBe(
      'http://sim.test/pay?prepay_id=1&redirect_url=http%3A%2F%2Fh.test%2Fh5%2F%23%2Fp%3Fa%3D1',
    );
    expect(withRedirect('http://sim.test/pay', 'x')).toBe('http://sim.test/pay?redirect_url=x');
  });

  it('returns to the success page of the order', () => {
    expect(successHref(42, 7, { origin: 'http://h.test', pathname: '/h5/' })).toBe(
      'http://h.test/h5/#/pages/success/index?orderId=42&id=7',
    );
  });

  it('polls the order and asks the backend to query the provider until paid', async () => {
    const getOrder = vi
      .fn()
      .mockResolvedValueOnce({ status: 'pending' })
      .mockResolvedValueOnce({ status: 'pending' })
      .mockResolvedValue({ status: 'paid' });
    const paymentCallback = vi.fn().mockResolvedValue({ status: 'pending' });
    const view = await waitUntilPaid(1, 'tok', { tries: 5, intervalMs: 1, api: { getOrder, paymentCallback } });
    expect(view.status).toBe('paid');
    expect(getOrder).toHaveBeenCalledTimes(3);
    expect(getOrder).toHaveBeenCalledWith(1, 'tok');
    expect(paymentCallback).toHaveBeenCalledTimes(1);
  });

  it('stops when the callback reports paid', async () => {
    const getOrder = vi.fn().mockResolvedValue({ status: 'pending' });
    const paymentCallback = vi.fn().mockResolvedValue({ status: 'paid', registrationCode: 'R1' });
    expect((await waitUntilPaid(1, 't', { tries: 5, intervalMs: 1, api: { getOrder, paymentCallback } })).registrationCode).toBe('R1');
  });

  it('gives up after the tries with the last view, and keeps going over network errors', async () => {
    const getOrder = vi
      .fn()
      .mockRejectedValueOnce(Object.assign(new Error('net'), { status: 0 }))
      .mockResolvedValue({ status: 'pending' });
    const paymentCallback = vi.fn().mockResolvedValue({ status: 'pending' });
    const view = await waitUntilPaid(1, 't', { tries: 3, intervalMs: 1, api: { getOrder, paymentCallback } });
    expect(view.status).toBe('pending');
    expect(getOrder).toHaveBeenCalledTimes(3);
  });

  it('stops at once on a rejected token', async () => {
    const getOrder = vi.fn().mockRejectedValue(Object.assign(new Error('nope'), { status: 401 }));
    await expect(waitUntilPaid(1, 't', { tries: 3, intervalMs: 1, api: { getOrder, paymentCallback: vi.fn() } })).rejects.toThrow('nope');
  });
});

describe('format', () => {
  it('formats fen without floats', () => {
    expect(formatFen(9900)).toBe('99.00');
    expect(formatFen(1)).toBe('0.01');
    expect(formatFen(0)).toBe('0.00');
    expect(formatFen(-150)).toBe('-1.50');
  });

  it('shows times in Asia/Shanghai', () => {
    expect(formatTime('2026-12-01T00:00:00+08:00')).toBe('2026-12-01 00:00');
    expect(formatTime('2026-11-30T16:30:00Z')).toBe('2026-12-01 00:30');
    expect(formatTime('')).toBe('');
  });
});
