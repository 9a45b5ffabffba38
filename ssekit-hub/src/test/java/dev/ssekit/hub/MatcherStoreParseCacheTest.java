package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ssekit.TopicSelector;
import dev.ssekit.urlpattern.UrlPattern;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The URL-pattern selectors parse a topic once per thread while it stays the same (issue #24): the
 * verdicts are those of {@link UrlPattern#test(String, String)} against the hub URL whatever the order
 * topics and patterns come in, on one thread and on several at once; a topic that is not a URL never
 * matches; a relative topic resolves against the hub URL.
 */
@Timeout(30)
class MatcherStoreParseCacheTest {

    private static final String HUB = "https://localhost/.well-known/mercure";

    private static final List<String> PATTERNS = List.of("https://localhost/books/:id", "/books/:id",
            "https://example.com/other/*", "https://example.com/other/7/:id", "/.well-known/mercure{/*}?",
            "http{s}?://*/books/:id(\\d+)", "https://localhost/*");

    private static final List<String> TOPICS = List.of("https://localhost/books/1", "/books/2", "books/3",
            "https://example.com/other/7/x", "https://example.com/other/8/x", "http://localhost/books/42",
            "not a url://x", "https://exa mple.com/", "http://[::1/", "", "urn:isbn:123", "/.well-known/mercure");

    @Test
    void verdictsAreThoseOfTheStringMethodInAnyOrder() {
        MatcherStore store = new MatcherStore(HUB, 100);
        int checked = 0;
        int matched = 0;
        // topic-major (as a publish: one topic, every pattern), then pattern-major (the cache misses every time)
        for (String t : TOPICS) {
            for (String p : PATTERNS) {
                matched += check(store, p, t) ? 1 : 0;
                checked++;
            }
        }
        for (String p : PATTERNS) {
            for (String t : TOPICS) {
                check(store, p, t);
            }
        }
        assertThat(matched).as("matching pairs").isBetween(5, checked - 5);
    }

    private static boolean check(MatcherStore store, String pattern, String topic) {
        boolean expected = UrlPattern.compile(pattern, HUB).test(topic, HUB);
        TopicSelector s = store.selector(Matcher.urlPattern(pattern));
        assertEquals(expected, s.matches(topic), pattern + " on " + topic);
        assertEquals(expected, store.matches(Matcher.urlPattern(pattern), topic), pattern + " on " + topic);
        return expected;
    }

    @Test
    void notAUrlNeverMatchesAndRelativeTopicsResolveAgainstTheHubUrl() {
        MatcherStore store = new MatcherStore(HUB, 100);
        TopicSelector any = store.selector(Matcher.urlPattern("http{s}?://*"));
        assertThat(any.matches("http://[::1/")).isFalse();
        assertThat(any.matches("http://[::1/")).as("the cached 'not a URL'").isFalse();
        TopicSelector books = store.selector(Matcher.urlPattern("https://localhost/books/:id"));
        assertThat(books.matches("/books/1")).isTrue();
        assertThat(books.matches("/books/1")).as("the cached parse").isTrue();
        assertThat(store.selector(Matcher.urlPattern("https://example.com/books/:id")).matches("/books/1")).isFalse();
        MatcherStore synthetic = new MatcherStore(MatcherStore.SYNTHETIC_HUB_URL, 10);
        assertThat(synthetic.selector(Matcher.urlPattern("/books/:id")).matches("/books/1")).isTrue();
        assertThat(synthetic.selector(Matcher.urlPattern("/books/:id")).matches("https://localhost/books/1")).isFalse();
    }

    @Test
    void threadsInterleavingTopicsGetTheSameVerdicts() throws Exception {
        MatcherStore store = new MatcherStore(HUB, 100);
        List<TopicSelector> selectors = PATTERNS.stream().map(p -> store.selector(Matcher.urlPattern(p))).toList();
        boolean[][] expected = new boolean[TOPICS.size()][PATTERNS.size()];
        for (int t = 0; t < TOPICS.size(); t++) {
            for (int p = 0; p < PATTERNS.size(); p++) {
                expected[t][p] = UrlPattern.compile(PATTERNS.get(p), HUB).test(TOPICS.get(t), HUB);
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int offset = w;
                done.add(pool.submit(() -> {
                    int n = 0;
                    for (int round = 0; round < 2_000; round++) {
                        int t = (round * 7 + offset) % TOPICS.size();
                        for (int p = 0; p < PATTERNS.size(); p++) {
                            assertEquals(expected[t][p], selectors.get(p).matches(TOPICS.get(t)),
                                    PATTERNS.get(p) + " on " + TOPICS.get(t));
                            n++;
                        }
                    }
                    return n;
                }));
            }
            for (Future<Integer> f : done) {
                assertEquals(2_000 * PATTERNS.size(), f.get(20, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
