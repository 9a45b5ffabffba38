package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TopicMatcherTest {

    /** A match that takes longer than this is a backtracking engine, not a slow machine. */
    private static final Duration BUDGET = Duration.ofSeconds(1);

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            *                                         | https://example.com/anything              | true
            https://example.com/books/1               | https://example.com/books/1               | true
            https://example.com/books/1               | https://example.com/books/2               | false
            https://example.com/books/{id}            | https://example.com/books/1               | true
            https://example.com/books/{id}            | https://example.com/books/abc-_.~%20x     | true
            https://example.com/books/{id}            | https://example.com/books/1/chapters      | false
            https://example.com/books/{id}            | https://example.com/authors/1             | false
            https://example.com/books/{id}            | https://example.com/books/                | true
            https://example.com/books/{id}.jsonld     | https://example.com/books/7.jsonld        | true
            https://example.com/users/{u}/books/{b}   | https://example.com/users/kev/books/42    | true
            https://example.com/users/{u}/books/{b}   | https://example.com/users/kev/books       | false
            https://example.com{/path*}               | https://example.com/a/b/c                 | true
            https://example.com/{+rest}               | https://example.com/a/b?c=d               | true
            https://example.com/search{?q,lang}       | https://example.com/search?q=x&lang=fr    | true
            https://example.com/search{?q}            | https://example.com/search#x              | false
            https://example.com/{id}                  | https://example.com/a b                   | false
            https://example.com/{id                   | https://example.com/{id                   | true
            https://example.com/{id                   | https://example.com/1                     | false
            https://example.com/{=bad}                | https://example.com/{=bad}                | true
            https://example.com/{}                    | https://example.com/x                     | false
            https://example.com/a.b                   | https://example.com/aXb                   | false
            """)
    void matches(String selector, String topic, boolean expected) {
        assertThat(TopicMatcher.of(selector).matches(topic)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"https://example.com/{id},true", "https://example.com/{id,false", "*,false", "plain,false", "a}b,false"})
    void templatesAreRecognized(String selector, boolean template) {
        assertThat(TopicMatcher.of(selector).isTemplate()).isEqualTo(template);
    }

    /**
     * Issue #14: with {@code java.util.regex}, 16 commas took 10 s and 20 did not end in a minute
     * (both the value pattern and the list separator take {@code ,}).
     */
    @Test
    void theCommaAttackAnswersAtOnce() {
        TopicMatcher template = TopicMatcher.of("https://example.com/{+path}.json");
        for (int commas : new int[] {20, 100, 1000}) {
            String topic = "https://example.com/" + "a,".repeat(commas) + "x";
            assertThat(timed(() -> template.matches(topic))).isFalse();
            assertThat(timed(() -> template.matches(topic + ".json"))).isTrue();
        }
    }

    /**
     * Random templates against random topics over a small alphabet: the same answer as the
     * backtracking engine gives for the same expression (cheap on short inputs), always within the
     * budget; then templates and topics up to the hub's size limit.
     */
    @Test
    void randomTemplatesAgreeWithTheReferenceEngineAndStayWithinBudget() {
        SplittableRandom random = new SplittableRandom(14);
        String[] parts = {"a", "/", ",", ".", "{x}", "{+x}", "{#x}", "{/x}", "{.x}", "{;x}", "{?x,y}", "{&x}", "{x*}", "{x:3}", "{", "}",
            "{=x}", "{x,y}"};
        String topicChars = "a/,.=?&;#%2!";
        int templates = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder t = new StringBuilder();
            for (int n = 1 + random.nextInt(6); n > 0; n--) {
                t.append(parts[random.nextInt(parts.length)]);
            }
            String selector = t.toString();
            String topic = random(random, topicChars, random.nextInt(14));
            String re = TopicMatcher.expression(selector);
            boolean expected = selector.equals(topic)
                    || re != null && java.util.regex.Pattern.compile(re, java.util.regex.Pattern.DOTALL).matcher(topic).matches();
            templates += re == null ? 0 : 1;
            TopicMatcher m = TopicMatcher.of(selector);
            assertThat(timed(() -> m.matches(topic))).as("%s ~ %s", selector, topic).isEqualTo(expected);
        }
        assertThat(templates).as("valid templates among the random selectors").isGreaterThan(5_000);
        for (int i = 0; i < 100; i++) {
            StringBuilder t = new StringBuilder();
            while (t.length() < TopicSelectorStore.MAX_LENGTH - 8) {
                t.append(parts[random.nextInt(parts.length)]);
            }
            TopicMatcher m = TopicMatcher.of(t.toString());
            String topic = random(random, topicChars, random.nextInt(TopicSelectorStore.MAX_LENGTH));
            timed(() -> m.matches(topic));
        }
        // the worst case of this engine: every position of the topic keeps every state alive
        TopicMatcher dense = TopicMatcher.of("{+a}x".repeat(TopicSelectorStore.MAX_LENGTH / 5));
        assertThat(timed(() -> dense.matches("x".repeat(TopicSelectorStore.MAX_LENGTH)))).isTrue();
    }

    private static String random(SplittableRandom random, String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    private static boolean timed(java.util.function.BooleanSupplier match) {
        long start = System.nanoTime();
        boolean result = match.getAsBoolean();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("one match").isLessThan(BUDGET);
        return result;
    }
}
