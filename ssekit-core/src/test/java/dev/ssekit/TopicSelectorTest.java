package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Globs meet topics that clients may choose: matching must take time linear in the topic, never
 * backtrack. The attack below took 5.3 s with 200 characters on the regex the globs compiled to,
 * and did not end in two minutes with 400.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TopicSelectorTest {

    /** A match that takes longer than this is a backtracking engine, not a slow machine. */
    private static final Duration BUDGET = Duration.ofSeconds(1);

    @Test
    void aBacktrackingGlobAnswersAtOnce() {
        TopicSelector evil = TopicSelector.glob("**a**a**a**a**b");
        for (int n : new int[] {200, 400, 10_000, 100_000}) {
            String topic = "a".repeat(n);
            assertThat(timed(() -> evil.matches(topic))).isFalse();
            assertThat(timed(() -> evil.matches(topic + "b"))).isTrue();
        }
        TopicSelector segments = TopicSelector.glob("*a*a*a*a*a*a*b");
        assertThat(timed(() -> segments.matches("a".repeat(100_000)))).isFalse();
        assertThat(timed(() -> segments.matches("a".repeat(100_000) + "/b"))).as("* stops at /").isFalse();
    }

    @Test
    void globSemantics() {
        assertThat(TopicSelector.glob("a/*").matches("a/b")).isTrue();
        assertThat(TopicSelector.glob("a/*").matches("a/")).isTrue();
        assertThat(TopicSelector.glob("a/*").matches("a/b/c")).isFalse();
        assertThat(TopicSelector.glob("a/**").matches("a/b/c")).isTrue();
        assertThat(TopicSelector.glob("a/**/z").matches("a/b/c/z")).isTrue();
        assertThat(TopicSelector.glob("a/**/z").matches("a/z")).isFalse();
        assertThat(TopicSelector.glob("a**z").matches("az")).isTrue();
        assertThat(TopicSelector.glob("***").matches("x/y")).as("** then *").isTrue();
        assertThat(TopicSelector.glob("*.json").matches("x.json")).isTrue();
        assertThat(TopicSelector.glob("*.json").matches("d/x.json")).isFalse();
        assertThat(TopicSelector.glob("a.b").matches("axb")).as("dots are literal").isFalse();
        assertThat(TopicSelector.glob("a\\E(*").matches("a\\E(x")).as("no regex quoting leaks").isTrue();
        assertThat(TopicSelector.glob("é/*/ü").matches("é/ß/ü")).isTrue();
        assertThat(TopicSelector.glob("*").matches("")).isTrue();
        assertThat(TopicSelector.glob("**").matches("")).isTrue();
        assertThat(TopicSelector.glob("plain")).isEqualTo(TopicSelector.exact("plain"));
        assertThat(TopicSelector.glob("**")).isSameAs(TopicSelector.all());
        assertThatThrownBy(() -> TopicSelector.exact("")).hasMessage("topic must not be empty");
        assertThatThrownBy(() -> TopicSelector.glob("")).hasMessage("glob must not be empty");
    }

    /**
     * Random globs against random topics over a small alphabet (where backtracking is cheap): the
     * same answer as the regular expression the glob stands for, and always within the budget; then
     * the same at the size of real topics.
     */
    @Test
    void randomGlobsAgreeWithTheirRegexAndStayWithinBudget() {
        SplittableRandom random = new SplittableRandom(20261201);
        for (int i = 0; i < 20_000; i++) {
            String glob = random(random, "ab/*", 1 + random.nextInt(12));
            String topic = random(random, "ab/", random.nextInt(16));
            boolean expected = reference(glob).matcher(topic).matches();
            assertThat(timed(() -> TopicSelector.glob(glob).matches(topic))).as("%s ~ %s", glob, topic).isEqualTo(expected);
        }
        for (int i = 0; i < 200; i++) {
            String glob = random(random, "ab/*", 1 + random.nextInt(256));
            String topic = random(random, "ab/", random.nextInt(8192));
            TopicSelector selector = TopicSelector.glob(glob);
            timed(() -> selector.matches(topic));
        }
    }

    private static String random(SplittableRandom random, String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** The glob's meaning, as a (backtracking) regex: fine on short inputs. */
    private static Pattern reference(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
            } else if (c == '*') {
                re.append("[^/]*");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    private static boolean timed(java.util.function.BooleanSupplier match) {
        long start = System.nanoTime();
        boolean result = match.getAsBoolean();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("one match").isLessThan(BUDGET);
        return result;
    }
}
