import { describe, it, expect } from 'vitest';
import { FILTERS, ORDER_STATUS, PAY_STATUS, SYNC_STATUS, REWARD_STATUS, CAMPAIGN_STATUS, AUDIT_ACTION } from './labels.js';

// Which label map names the values of each filter (the values themselves are checked against the API by AdminFilterValuesTests).
const MAPS = {
  orders: { status: ORDER_STATUS, payStatus: PAY_STATUS, syncStatus: SYNC_STATUS },
  rewardRecords: { status: REWARD_STATUS },
  campaigns: { status: CAMPAIGN_STATUS },
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
