import { describe, expect, it } from 'vitest';
import { MAX_TOPICS, MAX_TOPICS_PER_USER } from '../../console/engine/measure/topic-lru.ts';
import { summarize } from '../../console/report/summary.ts';
import { formatSummary } from '../../console/report/summary-text.ts';
import { fixturePartsSnapshot, fixtureSnapshot } from '../ui/fixtures.ts';

describe('summary text', () => {
  it(
    'says the missed and cut seqs on the broadcast line, and the topics dropped past their bounds ' +
      'only when there were some',
    () => {
      const base = fixtureSnapshot();
      const text = (totals: Partial<typeof base.totals>) =>
        formatSummary(
          summarize([fixtureSnapshot({ totals: { ...base.totals, ...totals } })], [], {
            isSignalled: false,
            notes: [],
          }),
        );
      const quiet = text({ missed: 2, cut: 40 });
      expect(quiet).toContain("missed seq 2, cut seq 40 (by the tool's own cuts)");
      expect(quiet).not.toContain('topics ');
      expect(text({ topicsEvicted: 95_904, userTopicsEvicted: 1_998_240 })).toContain(
        `topics     evicted 95.9k past the fleet's bound of ${MAX_TOPICS}, 2.0M past a user's of ` +
          `${MAX_TOPICS_PER_USER}: figures on a topic start over when it comes back`,
      );
    },
  );

  it(
    'takes the peak the engine kept between snapshots, and says over several parts that it is the sum of ' + 'theirs',
    () => {
      const base = fixtureSnapshot();
      // 100 users opened and were removed within a second: no snapshot saw them open
      const came = fixtureSnapshot({ fleet: { ...base.fleet, target: 0, open: 0, peakOpen: 100 } });
      const summary = summarize([came], [], { isSignalled: false, notes: [] });
      expect(summary.fleet).toMatchObject({ open: 0, peakOpen: 100 });
      expect(formatSummary(summary)).toContain('fleet      open 0/0 at the end of the script (peak 100)  attempts');
      const parts = summarize([fixturePartsSnapshot()], [], { isSignalled: false, notes: [] });
      expect(formatSummary(parts)).toContain('open 667/667 at the end of the script (peak at most 1000, over 3 parts)');
    },
  );
});
