import { describe, expect, it } from 'vitest';
import { rate, steps } from './funnel.js';

describe('funnel steps', () => {
  it('rates each step from the one before and from the visitors, from registrations on', () => {
    const s = steps({ views: 500, visitors: 200, registrations: 50, paid: 40, rewarded: 10 });
    expect(s.map((x) => x.value)).toEqual([500, 200, 50, 40, 10]);
    expect(s[0].fromPrevious).toBeNull();
    expect(s[1].fromPrevious).toBeNull();
    expect(s[2].fromPrevious).toBe(0.25);
    expect(s[3].fromPrevious).toBe(0.8);
    expect(s[4].fromVisitors).toBe(0.05);
  });

  it('shows no rate over an empty step', () => {
    expect(rate(3, 0)).toBeNull();
    expect(steps(null)[3].fromPrevious).toBeNull();
  });
});
