import { describe, it, expect, vi, afterEach } from 'vitest';
import { request, FORBIDDEN } from './http.js';

afterEach(() => vi.unstubAllGlobals());

function answer(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } });
}

describe('request', () => {
  it('turns every 403 into the one Chinese message, whatever the server wrote', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => answer(403, { title: 'Forbidden', status: 403 })),
    );
    await expect(request('/api/v1/audit-log')).rejects.toMatchObject({ status: 403, message: FORBIDDEN });
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => answer(403, { title: 'Not allowed to read this participant', detail: 'x' })),
    );
    await expect(request('/api/v1/rewards/1/ledger')).rejects.toMatchObject({ message: '无权限执行此操作，请联系管理员' });
  });
  it('keeps the server detail of other problems', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => answer(409, { title: 'Conflict', detail: '该报名码已核销' })),
    );
    await expect(request('/api/v1/check-ins', { method: 'POST', body: {} })).rejects.toMatchObject({
      status: 409,
      message: '该报名码已核销',
    });
  });
});
