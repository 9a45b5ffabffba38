package dev.ssekit.urlpattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The API's contract beyond the WPT data: errors by name, unparsable inputs, immutability, threads. */
@Timeout(30)
class UrlPatternTest {
    static UrlPatternInit pathname(String p) {
        return new UrlPatternInit(null, null, null, null, null, p, null, null, null);
    }

    @Test
    void aMercureTopicPatternMatchesAndCaptures() {
        UrlPattern p = UrlPattern.compile("https://example.com/books/:id");
        assertThat(p.protocol()).isEqualTo("https");
        assertThat(p.hostname()).isEqualTo("example.com");
        assertThat(p.port()).isEmpty();
        assertThat(p.pathname()).isEqualTo("/books/:id");
        assertThat(p.search()).isEqualTo("*");
        assertThat(p.hasRegExpGroups()).isFalse();
        assertThat(p.test("https://example.com/books/1")).isTrue();
        assertThat(p.test("https://example.com/books/1/2")).isFalse();
        assertThat(p.test("https://example.com:8443/books/1")).isFalse();
        assertThat(p.test("https://EXAMPLE.com/books/1?x#y")).isTrue();
        UrlPatternResult r = p.exec("https://example.com/books/42").orElseThrow();
        assertThat(r.pathname().groups()).isEqualTo(Map.of("id", "42"));
        assertThat(r.pathname().input()).isEqualTo("/books/42");
        assertThat(r.inputs()).containsExactly("https://example.com/books/42");
    }

    @Test
    void theReadmeSample() {
        UrlPattern books = UrlPattern.compile("https://example.com/books/:id");
        assertThat(books.test("https://example.com/books/42")).isTrue();
        assertThat(books.test("https://example.com/books/42/reviews")).isFalse();
        assertThat(books.exec("https://example.com/books/42").map(r -> r.pathname().groups().get("id")))
                .contains("42");
        UrlPattern items = UrlPattern.compile("/items/:n(\\d+)", "https://example.com");
        assertThat(items.test("https://example.com/items/7")).isTrue();
        UrlPattern init = UrlPattern.compile(new UrlPatternInit(null, null, null, "*.example.com", null,
                "/books/*", null, null, null));
        assertThat(init.test("http://api.example.com:8080/books/1/2?x#y")).isTrue();
        assertThat(init.test("https://example.org/books/1")).isFalse();
    }

    @Test
    void regexpGroupsRunOnRe2j() {
        UrlPattern p = UrlPattern.compile("/items/:n(\\d+)", "https://example.com");
        assertThat(p.hasRegExpGroups()).isTrue();
        assertThat(p.test("https://example.com/items/12")).isTrue();
        assertThat(p.test("https://example.com/items/x")).isFalse();
        assertThat(p.exec("/items/7", "https://example.com").orElseThrow().inputs())
                .containsExactly("/items/7", "https://example.com");
        // ECMAScript escapes that RE2 spells differently
        UrlPattern u = UrlPattern.compile(pathname("/(\\u0041\\u{42}\\x43)"));
        assertThat(u.test(pathname("/ABC"))).isTrue();
        assertThat(u.test(pathname("/abc"))).isFalse();
        UrlPattern greek = UrlPattern.compile(new UrlPatternInit(null, null, null, null, null, null, null,
                "(\\p{Script=Greek}+)", null));
        assertThat(greek.hasRegExpGroups()).isTrue();
        assertThat(UrlPattern.compile(pathname("/(\\cA|b)")).test(pathname("/b"))).isTrue();
        assertThat(greek.test(new UrlPatternInit(null, null, null, null, null, null, null, "abc", null))).isFalse();
    }

    /**
     * A pathname part that does not start with '/' whose dot segments remove the "/-" the standard puts
     * before it (found by UrlPatternPrefixTest's random patterns): an invalid pattern, not a
     * StringIndexOutOfBoundsException (which the hub, catching IllegalArgumentException, did not expect).
     */
    @Test
    void dotSegmentsEatingTheDummyPrefixMakeAnInvalidPattern() {
        assertThatThrownBy(() -> UrlPattern.compile("/:id*.json/../", "http://example.com/"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pathname");
        assertThat(UrlPattern.compile("https://example.com/:a..").pathname()).as("dots that are no segment stay")
                .isEqualTo("/:a..");
    }

    @Test
    void ignoreCaseAppliesToThePath() {
        UrlPattern p = UrlPattern.compile("https://example.com/Books/:id", null, new UrlPatternOptions(true));
        assertThat(p.test("https://example.com/bOOKS/1")).isTrue();
        assertThat(UrlPattern.compile("https://example.com/Books/:id").test("https://example.com/bOOKS/1")).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/(a(?=b)) | look-ahead",
        "/(a(?!b)) | look-ahead",
        "/((?<=a)b) | look-behind",
        "/((?<!a)b) | look-behind",
        "/((?:a)\\1) | back-reference",
        "/((?<x>a)\\k<x>) | named back-reference",
        "/([[a-z]--a]) | v flag's class set notation",
        "/([\\d&&[0-1]]) | v flag's class set operation (&&)",
        "/([\\q{abc}]) | v flag's string literal",
        "/(a{1001}) | repetition count over 1000",
    })
    void aGroupRe2jCannotRunIsRejectedByName(String pattern, String construct) {
        assertThatThrownBy(() -> UrlPattern.compile(pathname(pattern)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(construct);
    }

    @Test
    void invalidPatternsThrowIllegalArgumentException() {
        assertThatThrownBy(() -> UrlPattern.compile("/books/:id")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without a base URL");
        assertThatThrownBy(() -> UrlPattern.compile(pathname("/:id/:id"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate group name 'id'");
        assertThatThrownBy(() -> UrlPattern.compile(pathname("/(foo"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> UrlPattern.compile("/a", "not a url")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> UrlPattern.compile(new UrlPatternInit(null, null, null, "bad host", null, null,
                null, null, null))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unparsableInputsDoNotMatch() {
        UrlPattern any = UrlPattern.compile(new UrlPatternInit(null, null, null, null, null, null, null, null, null));
        assertThat(any.test("https://example.com/")).isTrue();
        assertThat(any.test("not a url")).isFalse();
        assertThat(any.exec("not a url")).isEmpty();
        assertThat(any.test("/relative")).isFalse();
        assertThat(any.test("/relative", "not a url")).isFalse();
        assertThat(any.exec("https://example.com:99999/")).isEmpty();
        assertThat(any.test(new UrlPatternInit("ht tp", null, null, null, null, null, null, null, null))).isFalse();
        assertThat(any.exec(new UrlPatternInit(null, null, null, null, "bad port", null, null, null, null))).isEmpty();
        assertThat(any.test("/relative", null)).isFalse(); // null base: not given
    }

    @Test
    void resultsAreImmutableAndAnUnmatchedGroupIsNull() {
        UrlPattern p = UrlPattern.compile(pathname("/books/:id?"));
        UrlPatternResult r = p.exec(pathname("/books")).orElseThrow();
        assertThat(r.pathname().groups()).containsEntry("id", null);
        assertThatThrownBy(() -> r.pathname().groups().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> r.inputs().add("x")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(r.inputs()).containsExactly(pathname("/books"));
    }

    @Test
    void nullArgumentsOtherThanABaseUrlThrowNullPointerException() {
        UrlPattern p = UrlPattern.compile("https://example.com/*");
        assertThatThrownBy(() -> p.test((String) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> p.exec((UrlPatternInit) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> UrlPattern.compile((String) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> UrlPattern.compile("https://a/", null, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void oneCompiledPatternIsSharedByThreads() throws Exception {
        UrlPattern p = UrlPattern.compile("https://example.com/books/:id(\\d+)");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    int mismatches = 0;
                    for (int i = 0; i < 5_000; i++) {
                        String id = Integer.toString(thread * 100_000 + i);
                        UrlPatternResult r = p.exec("https://example.com/books/" + id).orElse(null);
                        if (r == null || !id.equals(r.pathname().groups().get("id"))
                                || p.test("https://example.com/books/x" + id)) {
                            mismatches++;
                        }
                    }
                    return mismatches;
                }));
            }
            for (Future<Integer> f : futures) {
                assertThat(f.get(20, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
