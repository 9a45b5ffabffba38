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
     * Issue #17 item 12: the automaton's cost grows with a template's literal text too ({@code
     * {+x}} then 1,900 literal characters took 79 ms per match); a topic without the template's
     * literal prefix and suffix is now refused before it runs, and topics that have them still match.
     */
    @Test
    void literalTextAroundTheExpressionsIsCheckedFirst() {
        String tail = "/a".repeat(950);
        TopicMatcher m = TopicMatcher.of("https://e.com/{+x}" + tail);
        assertThat(timed(() -> m.matches("https://e.com/" + "b".repeat(2000)))).isFalse();
        assertThat(timed(() -> m.matches("https://e.com/b" + tail))).isTrue();
        assertThat(timed(() -> m.matches("https://e.com/" + tail))).as("an empty expansion").isTrue();
        assertThat(timed(() -> m.matches("https://e.com" + tail))).as("shorter than prefix and suffix").isFalse();
        assertThat(TopicMatcher.of("{x}").matches("")).isTrue();
        assertThat(TopicMatcher.of("a{x}a").matches("a")).as("prefix and suffix may not overlap").isFalse();
        assertThat(TopicMatcher.of("a{x}a").matches("aa")).isTrue();
    }

    /**
     * Random templates against random topics over a small alphabet: the same answer as the RFC 6570
     * form of the template ({@link #rfcExpression}) gives on the backtracking engine (cheap on short
     * inputs), always within the budget; then templates and topics up to the hub's size limits.
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
            String rfc = rfcExpression(selector);
            assertThat(re == null).as("%s is a template for both", selector).isEqualTo(rfc == null);
            boolean expected = selector.equals(topic)
                    || rfc != null && java.util.regex.Pattern.compile(rfc, java.util.regex.Pattern.DOTALL).matcher(topic).matches();
            templates += re == null ? 0 : 1;
            TopicMatcher m = TopicMatcher.of(selector);
            assertThat(timed(() -> m.matches(topic))).as("%s ~ %s", selector, topic).isEqualTo(expected);
        }
        assertThat(templates).as("valid templates among the random selectors").isGreaterThan(5_000);
        for (int i = 0; i < 100; i++) {
            StringBuilder t = new StringBuilder();
            int expressions = 0;
            while (t.length() < TopicSelectorStore.MAX_LENGTH - 8) {
                String part = parts[random.nextInt(parts.length)];
                if (part.equals("{") || part.equals("}")) {
                    continue; // a lone brace could join its neighbours into an expression not counted here
                }
                boolean expression = part.startsWith("{");
                if (expression && ++expressions > TopicMatcher.MAX_EXPRESSIONS) {
                    part = "a";
                }
                t.append(part);
            }
            TopicMatcher m = TopicMatcher.of(t.toString());
            String topic = random(random, topicChars, random.nextInt(TopicSelectorStore.MAX_LENGTH));
            timed(() -> m.matches(topic));
        }
        // the worst case of this engine: every expression takes any character, so every position
        // of the topic keeps every state alive
        TopicMatcher dense = TopicMatcher.of("{+a}x".repeat(TopicMatcher.MAX_EXPRESSIONS));
        assertThat(timed(() -> dense.matches("x".repeat(TopicSelectorStore.MAX_LENGTH)))).isTrue();
    }

    /** More expressions than the bound: refused when compiled (the hub answers 400), not matched. */
    @Test
    void aTemplateOfTooManyExpressionsIsRefused() {
        String ten = "https://example.com/" + "{a}/".repeat(TopicMatcher.MAX_EXPRESSIONS);
        assertThat(TopicMatcher.of(ten).isTemplate()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TopicMatcher.of(ten + "{b}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a topic selector (URI template) may hold at most 10 expressions");
        TopicSelectorStore store = new TopicSelectorStore(10);
        assertThat(store.anyMatches(java.util.List.of(ten + "{b}", "*"), "x")).as("the bad one matches nothing, * still does").isTrue();
        assertThat(store.usable(java.util.List.of(ten + "{b}", ten))).hasSize(1);
    }

    /**
     * The reference the matcher is checked against: each expression's expansions written as RFC
     * 6570 builds them (values of allowed characters, lists joined by commas, items by the
     * operator's separator, names and values for ;?&), for java.util.regex; the matcher compiles
     * an equivalent, flatter form for RE2/J.
     */
    private static String rfcExpression(String s) {
        if (s.indexOf('{') < 0) {
            return null;
        }
        String unreserved = "(?:[A-Za-z0-9\\-._~]|%[0-9A-Fa-f]{2})";
        String reserved = "(?:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})";
        java.util.regex.Pattern varspec = java.util.regex.Pattern.compile(
                "(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::[1-9][0-9]{0,3}|\\*)?");
        StringBuilder re = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            int open = s.indexOf('{', i);
            int close = s.indexOf('}', i);
            if (open < 0) {
                if (close >= 0) {
                    return null;
                }
                re.append(java.util.regex.Pattern.quote(s.substring(i)));
                break;
            }
            if (close >= 0 && close < open) {
                return null;
            }
            if (open > i) {
                re.append(java.util.regex.Pattern.quote(s.substring(i, open)));
            }
            int end = s.indexOf('}', open);
            if (end < 0) {
                return null;
            }
            String body = s.substring(open + 1, end);
            if (body.isEmpty() || "=,!@|".indexOf(body.charAt(0)) >= 0) {
                return null;
            }
            char op = body.charAt(0);
            String ops = "+#./;?&";
            String vars = ops.indexOf(op) >= 0 ? body.substring(1) : body;
            for (String v : vars.split(",", -1)) {
                if (!varspec.matcher(v).matches()) {
                    return null;
                }
            }
            String allow = op == '+' || op == '#' ? reserved : unreserved;
            String first = switch (op) {
                case '#' -> "#";
                case '.' -> "\\.";
                case '/' -> "/";
                case ';' -> ";";
                case '?' -> "\\?";
                case '&' -> "&";
                default -> "";
            };
            String sep = switch (op) {
                case '.' -> "\\.";
                case '/' -> "/";
                case ';' -> ";";
                case '?', '&' -> "&";
                default -> ",";
            };
            boolean named = op == ';' || op == '?' || op == '&';
            String value = allow + "*(?:," + allow + "*)*";
            String item = named ? "(?:[A-Za-z0-9_.%]+(?:=" + value + ")?)" : "(?:" + value + ")";
            re.append("(?:").append(first).append(item).append("(?:").append(sep).append(item).append(")*)?");
            i = end + 1;
        }
        return re.toString();
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
