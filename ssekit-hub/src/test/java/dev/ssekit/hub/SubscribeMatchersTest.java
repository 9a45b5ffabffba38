package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.TopicSelector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** match= / match_exact= / match_urlpattern= parsing, the reserved match namespace and the caps; the matcher cache. */
class SubscribeMatchersTest {

    private final MatcherStore matchers = new MatcherStore("https://localhost/.well-known/mercure", 1000);

    private List<Matcher> parse(String query, int legacy) throws Rejection {
        return SubscribeMatchers.parse(Forms.decode(query.getBytes(ISO_8859_1), 1000), matchers, legacy);
    }

    private Rejection refused(String query) {
        try {
            parse(query, -1);
        } catch (Rejection r) {
            return r;
        }
        throw new AssertionError("accepted: " + query);
    }

    @Test
    void readsEveryTypeMixedAndRepeated() throws Rejection {
        assertThat(parse("match=a&match_urlpattern=%2Fbooks%2F%3Aid&match_exact=b&match=a&last_event_id=x", -1)).containsExactly(
                Matcher.exact("a"), Matcher.urlPattern("/books/:id"), Matcher.exact("b"));
        assertThat(parse("match=*", -1)).containsExactly(Matcher.exact("*"));
    }

    @Test
    void theMatchNamespaceIsReserved() {
        for (String q : List.of("Match=a", "MATCH_urlpattern=a", "match_regex=a", "matches=a", "match_URLPATTERN=a", "match_=a")) {
            assertThat(refused(q).status).as(q).isEqualTo(400);
        }
        assertThat(refused("topic=a").getMessage()).contains("--protocol-version-compatibility 8");
        assertThat(refused("last_event_id=x").getMessage()).contains("at least one");
        assertThat(refused("").status).isEqualTo(400);
    }

    @Test
    void compatibilityModeLetsTopicThroughAndCountsItInTheCap() throws Rejection {
        assertThat(parse("topic=a", 1)).isEmpty();
        assertThat(parse("topic=a&match=b", 1)).containsExactly(Matcher.exact("b"));
        StringBuilder q = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            q.append("match=m").append(i).append('&');
        }
        assertThat(parse(q.toString(), 40)).hasSize(60);
        assertThatThrownBy(() -> parse(q.toString(), 41)).isInstanceOf(Rejection.class).hasMessageContaining("more than 100");
    }

    @Test
    void capsAndCharactersAre400() {
        StringBuilder q = new StringBuilder();
        for (int i = 0; i <= SubscribeMatchers.MAX_MATCHERS; i++) {
            q.append("match_urlpattern=/p").append(i).append("/:id&");
        }
        assertThat(refused(q.toString()).getMessage()).contains("more than 100 matchers");
        assertThat(refused("match=" + "x".repeat(4097)).getMessage()).contains("4096");
        assertThat(refused("match=" + "%C3%A9".repeat(2049)).getMessage()).as("bytes, not characters").contains("4096");
        assertThat(refused("match=a%00b").status).isEqualTo(400);
        assertThat(refused("match=a%C2%85b").status).as("C1 NEL").isEqualTo(400);
        assertThat(refused("match=a%E2%80%8Bb").status).as("Cf zero width space").isEqualTo(400);
        assertThat(refused("match=").status).isEqualTo(400);
        assertThat(refused("match_urlpattern=https%3A%2F%2Fx%2F(%3F%3Da)").getMessage()).contains("invalid URL pattern");
    }

    @Test
    void matchersAreCompiledOnceAndShared() {
        TopicSelector a = matchers.selector(Matcher.urlPattern("https://example.net/foo/:random"));
        assertThat(matchers.selector(Matcher.urlPattern("https://example.net/foo/:random"))).isSameAs(a);
        assertThat(a.matches("https://example.net/foo/3f2a")).isTrue();
        assertThat(a.matches("https://example.net/foo/3f2a/x")).isFalse();
        assertThat(a.matches("https://example.net/foo/will-not-match")).isTrue();
        assertThat(matchers.selector(Matcher.urlPattern("https://example.net/bar/:var")).matches("https://example.net/foo/x")).isFalse();
        assertThat(matchers.selector(Matcher.urlPattern("*"))).isEqualTo(TopicSelector.all());
        assertThat(matchers.selector(Matcher.exact("*"))).isEqualTo(TopicSelector.all());
        assertThat(matchers.selector(Matcher.exact("https://Example.net/a")).matches("https://example.net/a")).as("exact is byte for byte")
                .isFalse();
        // exact: no relative resolution
        assertThat(matchers.matches(Matcher.exact("/a"), "https://localhost/a")).isFalse();
        // url pattern: relative patterns and topics against the hub URL; a topic that is not a URL never matches
        assertThat(matchers.matches(Matcher.urlPattern("/books/:id"), "https://localhost/books/1")).isTrue();
        assertThat(matchers.matches(Matcher.urlPattern("/books/:id"), "books/1")).isFalse(); // resolves to /.well-known/books/1
        assertThat(matchers.matches(Matcher.urlPattern("/books/:id"), "/books/1")).isTrue();
        assertThat(matchers.matches(Matcher.urlPattern("https://x/:id"), "http://[bad")).isFalse();
        // ignoreCase is off; the host is case-insensitive by URL parsing
        assertThat(matchers.matches(Matcher.urlPattern("https://x/Books/:id"), "https://x/books/1")).isFalse();
        assertThat(matchers.matches(Matcher.urlPattern("https://x/books/:id"), "https://X/books/1")).isTrue();
    }

    @Test
    void theCacheIsBounded() {
        MatcherStore small = new MatcherStore(MatcherStore.SYNTHETIC_HUB_URL, 10);
        for (int i = 0; i < 200; i++) {
            small.selector(Matcher.urlPattern("/p" + i + "/:id"));
        }
        assertThat(small.size()).isLessThanOrEqualTo(10);
    }

    @Test
    void theHubNamespaceIsReserved() {
        ReservedTopics reserved = new ReservedTopics("https://localhost/.well-known/mercure");
        for (String t : List.of("https://localhost/.well-known/mercure", "https://other.example/.well-known/mercure/subscriptions/a/b",
                "http://x/.well-known/mercure/", "mercure", "mercure/x", "", "?q", "#f", "/.well-known/./mercure",
                "/.well-known/%6Dercure", "/a/../.well-known/mercure/x", "https://x/.well-known/mercure?x#y")) {
            assertThat(reserved.reserved(t)).as(t).isTrue();
        }
        for (String t : List.of("https://localhost/.well-known/mercurex", "https://localhost/books/1", "urn:isbn:1",
                "/.well-known/mercur", "https://x/.well-known/%2Fmercure", "x")) {
            assertThat(reserved.reserved(t)).as(t).isFalse();
        }
        assertThat(Map.of()).isEmpty();
    }
}
