import { describe, expect, it } from 'vitest';
import { MAX_TOPICS, MAX_TOPICS_PER_USER } from '../../console/engine/measure/topic-lru.ts';
import { summarize } from '../../console/report/summary.ts';
import { formatSummary } from '../../console/report/summary-text.ts';
import { fixtureSnapshot } from '../ui/fixtures.ts';

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
});
