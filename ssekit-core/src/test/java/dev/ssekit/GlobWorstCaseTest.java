package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The glob matcher at its worst (issue #17, "every input time-bounded"): a match costs at most the
 * topic's length times the glob's. No test here measures time; each input is sized so that a
 * matcher one factor of the glob's length slower (quadratic per character) would need minutes,
 * where the linear one needs milliseconds, and the preemptive timeout is the hang guard.
 *
 * <p>{@link #worstCase} is the input {@code InputWorstCaseTest} (ssekit-hub) measures.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GlobWorstCaseTest {

    /**
     * The worst glob of {@code length} characters: only stars, so every state is live at every
     * character and each reaches every later one without reading a character.
     */
    static String worstCase(int length) {
        return "*".repeat(length);
    }

    /**
     * A run of stars: {@code *} may match nothing, so each state reaches all the ones after it.
     * Before the fix each live state walked that whole run again at every character: 4,096 states
     * times 8,192 characters times 2,048 steps (about 7 × 10^10); now each state is entered once per
     * character.
     */
    @Test
    void aRunOfStarsIsLinearInTheTopic() {
        TopicSelector stars = TopicSelector.glob(worstCase(8192));
        assertThat(stars.matches("a".repeat(8192))).isTrue();
        assertThat(stars.matches("a/".repeat(4096))).as("** spans /").isTrue();
        TopicSelector single = TopicSelector.glob("*a".repeat(4096) + "b");
        assertThat(single.matches("a".repeat(8192))).isFalse();
        TopicSelector mixed = TopicSelector.glob("**a*".repeat(2048) + "b");
        assertThat(mixed.matches("a".repeat(8192))).isFalse();
        assertThat(mixed.matches("a".repeat(8192) + "b")).isTrue();
    }

    /**
     * Random globs of up to 2,048 characters (the hub's limit for selectors) dense in stars,
     * against random topics of up to 4,096 characters, checked against a reference that is
     * quadratic but cannot backtrack (dynamic programming over glob and topic positions).
     */
    @Test
    void randomLongGlobsAgreeWithTheReference() {
        SplittableRandom random = new SplittableRandom(17_12);
        for (int i = 0; i < 60; i++) {
            String glob = random(random, i % 2 == 0 ? "a*" : "ab/**", 1 + random.nextInt(2048));
            String topic = random(random, i % 3 == 0 ? "a" : "ab/", random.nextInt(4096));
            boolean expected = reference(glob, topic);
            assertThat(TopicSelector.glob(glob).matches(topic)).as("glob #%d", i).isEqualTo(expected);
        }
    }

    private static String random(SplittableRandom random, String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** Whether the glob matches, by dynamic programming: O(glob × topic) time, no backtracking. */
    static boolean reference(String glob, String topic) {
        int n = topic.length();
        boolean[] row = new boolean[n + 1]; // row[j]: the tokens so far match topic[0, j)
        row[0] = true;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            boolean any = c == '*' && glob.startsWith("**", i); // ** before *, as GlobMatcher reads them
            boolean star = c == '*';
            if (any) {
                i++;
            }
            boolean[] next = new boolean[n + 1];
            for (int j = 0; j <= n; j++) {
                if (any) {
                    next[j] = row[j] || j > 0 && next[j - 1];
                } else if (star) {
                    next[j] = row[j] || j > 0 && next[j - 1] && topic.charAt(j - 1) != '/';
                } else {
                    next[j] = j > 0 && row[j - 1] && topic.charAt(j - 1) == c;
                }
            }
            row = next;
        }
        return row[n];
    }
}
