package dev.ssekit.urlpattern;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Patterns and inputs at the hub's limits (a pattern of 4,096 bytes, an input of 2,048) compile and
 * match within a fixed budget: the adversarial shapes below (the worst-case row of RELIABILITY.md),
 * and random patterns and inputs from the pattern syntax's alphabet. The budget is generous (2 loaded
 * cores shared with other builds); what it catches is super-linear time in the input, which at these
 * sizes is minutes to forever. Matching is linear in the input but also proportional to the
 * compiled pattern's size (RE2/J's NFA): O(pattern x input).
 */
class UrlPatternBoundsTest {
    static final int MAX_PATTERN_BYTES = 4096;
    static final int MAX_INPUT_BYTES = 2048;
    /**
     * Per call: compile, test or exec. The worst shapes below took up to 0.44 s to compile, 2.7 s to
     * test and 7.2 s to exec on the 2-core machine loaded by other builds (load average 12-20;
     * RELIABILITY.md); the budget leaves room for a slower one. A backtracking matcher takes longer
     * than the age of the universe on the (a*)* shape, so the budget still separates linear from
     * exponential.
     */
    static final long BUDGET_NANOS = 30_000_000_000L;

    static long worstNanos;

    static <T> T timed(String what, Supplier<T> call) {
        long t0 = System.nanoTime();
        T result = call.get();
        long took = System.nanoTime() - t0;
        synchronized (UrlPatternBoundsTest.class) {
            worstNanos = Math.max(worstNanos, took);
        }
        assertThat(took).as("%s took %d ms", what, took / 1_000_000).isLessThan(BUDGET_NANOS);
        return result;
    }

    static String fill(String head, String unit, String tail, int bytes) {
        StringBuilder sb = new StringBuilder(head);
        int i = 0;
        while (true) {
            String next = unit.replace("#", Integer.toString(i++));
            if (sb.toString().getBytes(StandardCharsets.UTF_8).length + next.length() + tail.length() > bytes) {
                break;
            }
            sb.append(next);
        }
        sb.append(tail);
        return sb.toString();
    }

    /** pattern, input: shapes that make a backtracking matcher explode or an NFA the largest. */
    static List<String[]> adversarial() {
        String path2048 = "https://example.com" + "/a".repeat((MAX_INPUT_BYTES - 20) / 2);
        String as2048 = "https://example.com/" + "a".repeat(MAX_INPUT_BYTES - 21) + "!";
        return List.of(
                // ~680 optional segments, each a group: the largest automaton per byte of pattern
                new String[] {fill("https://example.com", "/:g#?", "", MAX_PATTERN_BYTES), path2048},
                // repeated segment groups with prefix: the standard's most complex regexp form
                new String[] {fill("https://example.com/a", "{/:g#}*", "", MAX_PATTERN_BYTES), path2048},
                // nested alternation in regexp groups, the classic catastrophic backtracking shape
                new String[] {fill("https://example.com/", "((?:a|aa|a?)*)", "b", MAX_PATTERN_BYTES), as2048},
                new String[] {fill("https://example.com/", "(a*)*", "b", MAX_PATTERN_BYTES), as2048},
                // wildcards: every split point is a candidate
                new String[] {fill("https://example.com/", "*a", "b", MAX_PATTERN_BYTES), as2048},
                new String[] {fill("https://*.example.com/", ":x#.", "", MAX_PATTERN_BYTES),
                        "https://" + "a.".repeat(900) + "example.com/"});
    }

    @Test
    @Timeout(180)
    void adversarialPatternsAtTheLimitsCompileAndMatchWithinTheBudget() {
        worstNanos = 0;
        for (String[] c : adversarial()) {
            assertThat(c[0].getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(MAX_PATTERN_BYTES)
                    .isGreaterThan(MAX_PATTERN_BYTES - 64);
            assertThat(c[1].getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(MAX_INPUT_BYTES);
            // the first calls pay class loading and JIT; the second ones are the figures printed
            timed("compile " + c[0].substring(0, 40), () -> UrlPattern.compile(c[0]));
            long t0 = System.nanoTime();
            UrlPattern p = timed("compile " + c[0].substring(0, 40), () -> UrlPattern.compile(c[0]));
            long t1 = System.nanoTime();
            boolean matched = timed("test", () -> p.test(c[1]));
            long t2 = System.nanoTime();
            assertThat(timed("exec", () -> p.exec(c[1])).isPresent()).isEqualTo(matched);
            long t3 = System.nanoTime();
            System.out.printf("shape %-44s matches=%-5s compile %6d us, test %6d us, exec %6d us%n",
                    c[0].substring(0, 44), matched, (t1 - t0) / 1000, (t2 - t1) / 1000, (t3 - t2) / 1000);
        }
        System.out.println("worst single call " + worstNanos / 1000 + " us (budget " + BUDGET_NANOS / 1_000_000 + " ms)");
    }

    static final String[] PATTERN_PIECES = {
        "/", "/", ".", "a", "b", "-", "%", ":", ":id", ":n", "*", "?", "+", "{", "}", "(", ")", "(\\d+)", "(a*)*",
        "((?:a|b)*)", "([^/]+)", "(.*)", "\\", "\\:", "#", "@", "[", "]", "é", "😀", " ", "{/:x}?", "(?:a)", "|",
    };

    static final String[] INPUT_PIECES = {
        "/", "a", "b", "aa", "1", "23", ".", "-", "%20", "%", "?", "#", "@", ":", "é", "😀", " ", "~", "//",
    };

    @Provide
    Arbitrary<String> patterns() {
        return Arbitraries.integers().between(1, MAX_PATTERN_BYTES / 4).flatMap(n ->
                Arbitraries.of(PATTERN_PIECES).list().ofSize(n).map(l -> truncate(
                        Arbitraries.of("https://example.com", "https://*", "*://*:*", "").sample() + String.join("", l),
                        MAX_PATTERN_BYTES)));
    }

    @Provide
    Arbitrary<String> inputs() {
        return Arbitraries.integers().between(0, MAX_INPUT_BYTES / 3).flatMap(n ->
                Arbitraries.of(INPUT_PIECES).list().ofSize(n).map(l -> truncate("https://example.com"
                        + String.join("", l), MAX_INPUT_BYTES)));
    }

    /**
     * Units of well-formed pathname patterns, each with a path that it matches; '#' becomes the
     * unit's index, so group names never repeat.
     */
    static final String[][] VALID_UNITS = {
        {"/books", "/books"}, {"/a", "/a"}, {"/:g#", "/x"}, {"/:g#?", ""}, {"/:g#?", "/y"}, {"/:g#+", "/x/y"},
        {"/:g#*", ""}, {"/*", "/any/thing"}, {"{/:g#}*", "/x/y"}, {"{/:g#}?", ""}, {"/:g#(\\d+)", "/12"},
        {"/(a|b)", "/b"}, {"/((?:a|aa)*)", "/aaa"}, {"/:g#([^/]+)", "/z"}, {".json", ".json"}, {"-:g#", "-x"},
        {"/%20", "/%20"}, {"/\\:", "/:"}, {"{/x}?", "/x"}, {"/(.*)", "/any/thing"}, {"/é", "/%C3%A9"},
    };

    /** A well-formed pattern of up to 4,096 bytes and a URL of up to 2,048 that it matches. */
    record PatternAndMatch(String pattern, String url) { }

    @Provide
    Arbitrary<PatternAndMatch> validPatterns() {
        return Arbitraries.integers().between(1, MAX_PATTERN_BYTES / 6).flatMap(n ->
                Arbitraries.integers().between(0, VALID_UNITS.length - 1).list().ofSize(n).map(l -> {
                    StringBuilder pattern = new StringBuilder("https://example.com/p");
                    StringBuilder url = new StringBuilder("https://example.com/p");
                    int patternBytes = pattern.length();
                    int urlBytes = url.length();
                    for (int i = 0; i < l.size(); i++) {
                        String unit = VALID_UNITS[l.get(i)][0].replace("#", Integer.toString(i));
                        String path = VALID_UNITS[l.get(i)][1];
                        int ub = unit.getBytes(StandardCharsets.UTF_8).length;
                        if (patternBytes + ub > MAX_PATTERN_BYTES || urlBytes + path.length() > MAX_INPUT_BYTES) {
                            break;
                        }
                        pattern.append(unit);
                        url.append(path);
                        patternBytes += ub;
                        urlBytes += path.length();
                    }
                    return new PatternAndMatch(pattern.toString(), url.toString());
                }));
    }

    @Property(tries = 40)
    void wellFormedPatternsAtTheLimitCompileAndMatchWithinTheBudget(@ForAll("validPatterns") PatternAndMatch c,
                                                                    @ForAll("inputs") String other) {
        UrlPattern p = timed("compile", () -> UrlPattern.compile(c.pattern()));
        assertThat(timed("test", () -> p.test(c.url()))).as("%s matches %s", c.pattern(), c.url()).isTrue();
        assertThat(timed("exec", () -> p.exec(c.url()))).isPresent();
        boolean matched = timed("test", () -> p.test(other));
        assertThat(timed("exec", () -> p.exec(other)).isPresent()).isEqualTo(matched);
    }

    static String truncate(String s, int bytes) {
        while (s.getBytes(StandardCharsets.UTF_8).length > bytes) {
            s = s.substring(0, s.offsetByCodePoints(0, s.codePointCount(0, s.length()) - 1));
        }
        return s;
    }

    @Property(tries = 300)
    void randomPatternsAndInputsStayWithinTheBudget(@ForAll("patterns") String pattern,
                                                    @ForAll("inputs") String input) {
        UrlPattern p;
        try {
            p = timed("compile", () -> UrlPattern.compile(pattern, "https://example.com"));
        } catch (IllegalArgumentException invalid) {
            // many random strings are not patterns: rejecting them is within the budget too
            Statistics.label("pattern").collect("rejected");
            return;
        }
        Statistics.label("pattern").collect("compiled");
        boolean matched = timed("test", () -> p.test(input));
        assertThat(timed("exec", () -> p.exec(input)).isPresent()).isEqualTo(matched);
        Statistics.label("input").collect(matched ? "matched" : "not matched");
    }
}
