import t from 'tap';
import { daysInMonth, utcFields } from '../../src/core/model/civil-time.ts';
import { formatTimestamp } from '../../src/core/model/tombstone.ts';

/** What Date says (its ISO form), for comparison: the arithmetic must agree everywhere. */
function viaDate(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

const EDGES = [
  0, // 1970-01-01
  -1, // 1969-12-31T23:59:59
  951_782_400, // 2000-02-29
  951_868_799, // 2000-02-29T23:59:59
  4_107_542_400, // 2100-03-01 (2100 is not a leap year)
  253_402_300_799, // 9999-12-31T23:59:59
  1_796_551_324, // 2026-12-06
];

t.test(
  'UTC fields agree with Date at the edges of days, months, leap years and eras',
  async (t) => {
    for (const seconds of EDGES)
      t.equal(formatTimestamp(BigInt(seconds) * 1_000_000_000n), viaDate(seconds));
  },
);

t.test('and at 20,000 spread seconds from 1900 to 2400', async (t) => {
  let state = 12345;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const from = -2_208_988_800; // 1900-01-01
  const span = 13_569_465_600; // to 2330
  let wrong = 0;
  for (let i = 0; i < 20_000; i++) {
    const seconds = from + Math.floor(next() * span);
    if (formatTimestamp(BigInt(seconds) * 1_000_000_000n) !== viaDate(seconds)) wrong++;
  }
  t.equal(wrong, 0);
});

t.test('days in a month, February of leap years included', async (t) => {
  t.same(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((month) => daysInMonth(2023, month)),
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  );
  t.equal(daysInMonth(2024, 2), 29);
  t.equal(daysInMonth(2000, 2), 29);
  t.equal(daysInMonth(1900, 2), 28);
  t.match(utcFields(86_399), { year: 1970, month: 1, day: 1, hour: 23, minute: 59, second: 59 });
});
