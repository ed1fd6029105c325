import { describe, it, expect } from 'vitest';
import { fileNameOf } from './download.js';

describe('fileNameOf', () => {
  it('prefers the UTF-8 name ASP.NET sends beside the ASCII fallback', () => {
    const cd = 'attachment; filename="__-______-20261206.xlsx"; filename*=UTF-8\'\'%E8%AE%A2%E5%8D%95-%E6%98%A5%E5%AD%A3-20261206.xlsx';
    expect(fileNameOf(cd, 'x')).toBe('订单-春季-20261206.xlsx');
  });
  it('reads a plain name and falls back when there is none', () => {
    expect(fileNameOf('attachment; filename=orders.csv', 'x')).toBe('orders.csv');
    expect(fileNameOf('', 'fallback.xlsx')).toBe('fallback.xlsx');
  });
});
