import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { EPOCH_2001_OFFSET } from '../src/constants.ts'
import {
  dateToEpoch2001,
  dateToPosixSeconds,
  epoch2001ToDate,
  fromEpoch2001,
  nowEpoch2001,
  posixSecondsFromNs,
  posixSecondsToDate,
  toEpoch2001,
} from '../src/time.ts'

describe('2001-epoch timestamps', () => {
  it('puts 2001-01-01T00:00:00Z at zero', () => {
    assert.equal(EPOCH_2001_OFFSET, 978_307_200)
    assert.equal(toEpoch2001(978_307_200), 0)
    assert.equal(fromEpoch2001(0), 978_307_200)
    assert.equal(epoch2001ToDate(0).toISOString(), '2001-01-01T00:00:00.000Z')
    assert.equal(dateToEpoch2001(new Date('2001-01-01T00:00:01.500Z')), 1.5)
    assert.equal(toEpoch2001(0), -978_307_200)
  })

  it('maps the vectors: the same README is 621693800.0 (current era) and 1600001000.0 (2022 era)', () => {
    assert.equal(fromEpoch2001(621_693_800), 1_600_001_000)
    assert.equal(toEpoch2001(1_600_001_000), 621_693_800)
    assert.equal(epoch2001ToDate(621_693_800).toISOString(), '2020-09-13T12:43:20.000Z')
    assert.equal(posixSecondsToDate(1_600_001_000).toISOString(), '2020-09-13T12:43:20.000Z')
    assert.equal(dateToPosixSeconds(new Date('2020-09-13T12:43:20.250Z')), 1_600_001_000.25)
  })

  it('round-trips POSIX times exactly from 1985 to 2032 (where the subtraction is exact)', () => {
    fc.assert(
      fc.property(fc.double({ min: EPOCH_2001_OFFSET / 2, max: EPOCH_2001_OFFSET * 2, noNaN: true }), (posix) => {
        assert.equal(fromEpoch2001(toEpoch2001(posix)), posix)
      }),
    )
  })

  it('round-trips whole seconds anywhere', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (t) => {
        assert.equal(toEpoch2001(fromEpoch2001(t)), t)
      }),
    )
  })

  it('reads the clock', () => {
    const before = Date.now() / 1000 - EPOCH_2001_OFFSET
    const now = nowEpoch2001()
    assert.ok(now >= before - 0.001 && now <= Date.now() / 1000 - EPOCH_2001_OFFSET + 0.001)
  })
})

describe('posixSecondsFromNs', () => {
  it('gives the same float as CPython st_mtime for the same st_mtime_ns', () => {
    // Pairs (st_mtime_ns, repr(st_mtime)) recorded from CPython 3 on Linux.
    const reference: Array<[bigint, number]> = [
      [1795614240168149147n, 1795614240.1681492],
      [1312494765889401333n, 1312494765.8894014],
      [1849897281939139295n, 1849897281.9391394],
      [145514431571737540n, 145514431.57173753],
      [271902015394427964n, 271902015.39442796],
      [1754659928281503099n, 1754659928.2815032],
      [1600001000000000000n, 1600001000],
    ]
    for (const [ns, seconds] of reference) assert.equal(posixSecondsFromNs(ns), seconds, `${ns}`)
  })

  it('floors negative times to the second below, as the stat fields are', () => {
    assert.equal(posixSecondsFromNs(-1n), -1 + 999_999_999 * 1e-9)
    assert.equal(posixSecondsFromNs(-1_500_000_000n), -2 + 0.5)
  })
})
