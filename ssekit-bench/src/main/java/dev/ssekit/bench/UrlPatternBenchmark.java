package dev.ssekit.bench;

import dev.ssekit.hub.TopicMatcherAccess;
import dev.ssekit.urlpattern.UrlPattern;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A typical Mercure topic selector, as a WHATWG URL Pattern ({@code https://example.com/books/:id},
 * ssekit-urlpattern) and as the URI template the hub matches today ({@code
 * https://example.com/books/{id}}, ssekit-hub's TopicMatcher): compiling it, and testing a matching
 * and a non-matching topic, in ns/op on one thread. {@code test} includes parsing the topic as a
 * WHATWG URL, which the URI template matcher does not do (it matches the string).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class UrlPatternBenchmark {
    static final String PATTERN = "https://example.com/books/:id";
    static final String TEMPLATE = "https://example.com/books/{id}";
    static final String MATCHING = "https://example.com/books/1";
    static final String NON_MATCHING = "https://example.com/authors/1";

    private final UrlPattern pattern = UrlPattern.compile(PATTERN);
    private final TopicMatcherAccess template = TopicMatcherAccess.of(TEMPLATE);

    /** @return the compiled URL pattern */
    @Benchmark
    public UrlPattern urlPatternCompile() {
        return UrlPattern.compile(PATTERN);
    }

    /** @return true */
    @Benchmark
    public boolean urlPatternTestMatching() {
        return pattern.test(MATCHING);
    }

    /** @return false */
    @Benchmark
    public boolean urlPatternTestNonMatching() {
        return pattern.test(NON_MATCHING);
    }

    /** @return the compiled URI template */
    @Benchmark
    public TopicMatcherAccess uriTemplateCompile() {
        return TopicMatcherAccess.of(TEMPLATE);
    }

    /** @return true */
    @Benchmark
    public boolean uriTemplateMatchMatching() {
        return template.matches(MATCHING);
    }

    /** @return false */
    @Benchmark
    public boolean uriTemplateMatchNonMatching() {
        return template.matches(NON_MATCHING);
    }
}
