import { describe, expect, it } from 'vitest';
import { createTracker, visitorId } from '../../src/lib/track.js';
import { captureAttribution } from '../../src/lib/attribution.js';
import { memoryStorage } from './memoryStorage.js';

function setup({ fail = 0 } = {}) {
  const store = memoryStorage();
  const sent = [];
  const tried = [];
  const beacons = [];
  let failures = fail;
  const transport = {
    post: async (body) => {
      tried.push(body.batchId);
      if (failures-- > 0) throw new Error('offline');
      sent.push(body);
    },
    beacon: (body) => beacons.push(body) > 0,
  };
  const timers = [];
  const tracker = createTracker({ store, transport, schedule: (fn) => timers.push(fn) });
  return { store, sent, tried, beacons, tracker, timers };
}

describe('tracker', () => {
  it('batches a page’s events with its channel and referrer and an anonymous visitor id', async () => {
    const { store, sent, tracker } = setup();
    captureAttribution('7', { c_id: 'wx-group', u_id: 'R1abc' }, store);
    tracker.track('view', '7');
    tracker.track('form_start', '7', { once: true });
    tracker.track('form_start', '7', { once: true });
    tracker.track('submit', '7');
    await tracker.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ campaignId: 7, channel: 'wx-group', referrer: 'R1abc' });
    expect(sent[0].events.map((e) => e.type)).toEqual(['view', 'form_start', 'submit']);
    expect(sent[0].visitorId).toBe(visitorId(store));
    expect(JSON.stringify(sent[0])).not.toMatch(/1[3-9]\d{9}/);
  });

  it('sends a failed batch again with the same batch id', async () => {
    const { sent, tried, tracker } = setup({ fail: 1 });
    tracker.track('view', '3');
    await tracker.flush();
    expect(sent).toHaveLength(0);
    tracker.track('pay_start', '3');
    await tracker.flush();
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ batchId: tried[0], events: [{ type: 'view' }] });
    expect(sent[1].batchId).not.toBe(sent[0].batchId);
  });

  it('hands what is queued to sendBeacon when the page is left', () => {
    const { beacons, tracker } = setup();
    tracker.track('view', '5');
    tracker.flushOnLeave();
    expect(beacons).toHaveLength(1);
    expect(beacons[0].events).toEqual([{ type: 'view' }]);
  });

  it('ignores events without a campaign id', async () => {
    const { sent, tracker } = setup();
    tracker.track('view', null);
    tracker.track('view', 'abc');
    await tracker.flush();
    expect(sent).toHaveLength(0);
  });
});
