import { describe, it, expect } from 'vitest';
import {
  FILTERS,
  ORDER_STATUS,
  PAY_STATUS,
  SYNC_STATUS,
  REWARD_STATUS,
  CAMPAIGN_STATUS,
  APPROVAL_STATUS,
  AUDIT_ACTION,
  approvalNote,
} from './labels.js';

// Which label map names the values of each filter (the values themselves are checked against the API by AdminFilterValuesTests).
const MAPS = {
  orders: { status: ORDER_STATUS, payStatus: PAY_STATUS, syncStatus: SYNC_STATUS },
  rewardRecords: { status: REWARD_STATUS },
  campaigns: { status: CAMPAIGN_STATUS, approval: APPROVAL_STATUS },
  auditLog: { action: AUDIT_ACTION },
};

describe('filter values', () => {
  for (const [screen, filters] of Object.entries(FILTERS)) {
    for (const [filter, values] of Object.entries(filters)) {
      it(`${screen}.${filter} offers only labelled values and labels nothing else`, () => {
        const map = MAPS[screen][filter];
        expect(values.filter((v) => !map[v])).toEqual([]);
        expect(Object.keys(map).sort()).toEqual([...values].sort());
      });
    }
  }
});

describe('approvalNote', () => {
  it('says who moved the approval and when, in Beijing time', () => {
    expect(approvalNote({ status: 'pending', by: 'op1', at: '2026-12-06T09:38:12Z' })).toBe('op1 于 2026-12-06 17:38 提交');
    expect(approvalNote({ status: 'rejected', by: 'admin', at: '2026-12-06T16:05:00Z' })).toBe('admin 于 2026-12-07 00:05 驳回');
    expect(approvalNote({ status: 'approved', by: null, at: '2026-12-06T09:38:12Z' })).toBe('2026-12-06 17:38 通过');
  });

  it('is empty before any move', () => {
    expect(approvalNote({ status: 'none', by: null, at: null })).toBeNull();
    expect(approvalNote(undefined)).toBeNull();
  });
});
