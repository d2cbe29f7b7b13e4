import { describe, expect, it } from 'vitest';
import { grouped } from '../../src/analysis/format';

describe('grouped', () => {
  it("writes what toLocaleString('en-US') of the rounded number writes", () => {
    const values = [0, -0, 1, -1, 12, 999, 1000, -1000, 1234.5, 99999.4, 1e6, 61_100_840, -716_767_232, 2 ** 53 - 1, 2 ** 53 + 2, 1e21, -1e21];
    for (let k = 0; k < 200; k++) values.push(Math.round((Math.sin(k) * 10) ** 9));
    for (const v of values) expect(grouped(v), String(v)).toBe(Math.round(v).toLocaleString('en-US'));
  });
});
