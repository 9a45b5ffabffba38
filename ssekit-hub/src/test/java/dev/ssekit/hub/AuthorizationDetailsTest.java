package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * authorization_details parsing: examples of each rule, and properties over generated claims: one malformed Mercure
 * entry anywhere rejects the whole token, an unknown match_type rejects it, entries of other types are skipped, the
 * caps hold.
 */
class AuthorizationDetailsTest {

    private static final String T = AuthorizationDetails.TYPE;
    private final MatcherStore matchers = new MatcherStore("https://hub.example/.well-known/mercure", 1000);

    static Map<String, Object> entry(String type, List<?> actions, Object topics) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("actions", actions);
        m.put("topics", topics);
        return m;
    }

    static Map<String, Object> topic(String match, String type) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("match", match);
        if (type != null) {
            m.put("match_type", type);
        }
        return m;
    }

    @Test
    void readsActionsTopicsAndPayloads() {
        Map<String, Object> sub = entry(T, List.of("subscribe", "future-action"), List.of(topic("/books/:id", "urlpattern")));
        sub.put("payload", Map.of("user", "alice"));
        var grants = AuthorizationDetails.parse(List.of(
                entry(T, List.of("publish"), List.of(topic("https://example.com/a", null))),
                entry("https://other.example/detail", List.of(1, 2), "anything"), // another resource's: skipped unread
                sub), matchers);
        assertThat(grants.publish()).containsExactly(Matcher.exact("https://example.com/a"));
        assertThat(grants.subscribe()).containsExactly(Matcher.urlPattern("/books/:id"));
        assertThat(matchers.anyMatches(grants.subscribe(), "https://hub.example/books/42")).isTrue();
        assertThat(matchers.anyMatches(grants.subscribe(), "/books/42")).as("relative topic resolved against the hub URL").isTrue();
        assertThat(matchers.anyMatches(grants.subscribe(), "https://hub.example/books/42/x")).isFalse();
        assertThat(grants.payloadFor("/books/7", matchers)).contains(Map.of("user", "alice"));
        assertThat(grants.payloadFor("/authors/7", matchers)).isEmpty();
        assertThat(AuthorizationDetails.parse(null, matchers)).isEqualTo(AuthorizationDetails.NONE);
        assertThat(AuthorizationDetails.parse(List.of(), matchers).publish()).isEmpty();
    }

    @Test
    void eachMalformedShapeIsRefused() {
        List<Object> bad = List.of(
                "not an array",
                List.of("not an object"),
                List.of(Map.of("actions", List.of("publish"), "topics", List.of(topic("a", null)))), // no type
                List.of(entry(T, List.of(), List.of(topic("a", null)))),
                List.of(entry(T, List.of("publish", 3), List.of(topic("a", null)))),
                List.of(entry(T, List.of("publish"), List.of())),
                List.of(entry(T, List.of("publish"), List.of("a"))), // bare string
                List.of(entry(T, List.of("publish"), List.of(topic("", null)))),
                List.of(entry(T, List.of("publish"), List.of(topic("a", "regex")))),
                List.of(entry(T, List.of("publish"), List.of(topic("a", "URLPATTERN")))),
                List.of(entry(T, List.of("publish"), List.of(topic("https://x/(?=a)", "urlpattern")))), // not RE2
                List.of(entry(T, List.of("publish"), List.of(topic("a\u202Eb", null)))), // Cf
                List.of(entry(T, List.of("publish"), List.of(topic("x".repeat(4097), null)))));
        for (Object claim : bad) {
            assertThatThrownBy(() -> AuthorizationDetails.parse(claim, matchers)).as(String.valueOf(claim).substring(0,
                    Math.min(80, String.valueOf(claim).length()))).isInstanceOf(IllegalArgumentException.class);
        }
        Map<String, Object> badPayload = entry(T, List.of("subscribe"), List.of(topic("a", null)));
        badPayload.put("payload", "a string");
        assertThatThrownBy(() -> AuthorizationDetails.parse(List.of(badPayload), matchers)).hasMessageContaining("payload");
    }

    @Test
    void capsHold() {
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < AuthorizationDetails.MAX_DETAILS; i++) {
            many.add(entry("other", List.of(), List.of()));
        }
        assertThat(AuthorizationDetails.parse(many, matchers).details()).isEmpty();
        many.add(entry("other", List.of(), List.of()));
        assertThatThrownBy(() -> AuthorizationDetails.parse(many, matchers)).hasMessageContaining("more than 100 entries");
        List<Object> topics = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            topics.add(topic("t" + i, null));
        }
        assertThat(AuthorizationDetails.parse(List.of(entry(T, List.of("publish"), topics)), matchers).publish()).hasSize(60);
        assertThatThrownBy(() -> AuthorizationDetails.parse(List.of(entry(T, List.of("publish"), topics),
                entry(T, List.of("subscribe"), topics)), matchers)).hasMessageContaining("more than 100 topics");
    }

    // ---- properties

    @Provide
    Arbitrary<List<Map<String, Object>>> validMercureEntries() {
        return validEntry().list().ofMinSize(0).ofMaxSize(20);
    }

    @Provide
    Arbitrary<List<Map<String, Object>>> otherEntries() {
        return otherEntry().list().ofMinSize(0).ofMaxSize(20);
    }

    private static Arbitrary<Map<String, Object>> validEntry() {
        Arbitrary<Map<String, Object>> topics = Combinators.combine(
                Arbitraries.strings().alpha().numeric().withChars("/:.-").ofMinLength(1).ofMaxLength(20),
                Arbitraries.of("exact", "none")).as((m, t) -> topic(m, t.equals("none") ? null : t));
        return Combinators.combine(
                Arbitraries.of("publish", "subscribe", "x-future").list().ofMinSize(1).ofMaxSize(3),
                topics.list().ofMinSize(1).ofMaxSize(3)).as((a, t) -> entry(T, a, t));
    }

    private static Arbitrary<Map<String, Object>> otherEntry() {
        return Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(10).map(s -> entry("urn:other:" + s, List.of(s), List.of(s)));
    }

    @Provide
    Arbitrary<Object> malformedEntries() {
        return Arbitraries.oneOf(
                Arbitraries.just(entry(T, List.of(), List.of(topic("a", null)))),
                Arbitraries.just(entry(T, List.of("publish"), List.of("bare"))),
                Arbitraries.just(entry(T, List.of(Boolean.TRUE), List.of(topic("a", null)))),
                Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8).filter(s -> !s.equals("exact"))
                        .map(t -> entry(T, List.of("subscribe"), List.of(topic("a", t)))),
                Arbitraries.just(42),
                Arbitraries.just(Map.of("no", "type")));
    }

    @Property(tries = 200)
    void oneMalformedEntryAnywhereRejectsTheWholeToken(@ForAll("validMercureEntries") List<Map<String, Object>> valid,
            @ForAll("malformedEntries") Object malformed, @ForAll @IntRange(min = 0, max = 100) int at) {
        List<Object> claim = new ArrayList<>(valid.subList(0, Math.min(valid.size(), 30)));
        claim.add(Math.min(at, claim.size()), malformed);
        assertThatThrownBy(() -> AuthorizationDetails.parse(claim, matchers)).isInstanceOf(IllegalArgumentException.class);
    }

    @Property(tries = 200)
    void entriesOfOtherTypesAreSkippedAndChangeNothing(@ForAll("validMercureEntries") List<Map<String, Object>> valid,
            @ForAll("otherEntries") List<Map<String, Object>> others) {
        List<Map<String, Object>> mercure = valid.subList(0, Math.min(valid.size(), 20));
        List<Map<String, Object>> theirs = others.subList(0, Math.min(others.size(), 20));
        var alone = AuthorizationDetails.parse(mercure, matchers);
        List<Object> mixed = new ArrayList<>();
        for (int i = 0; i < Math.max(mercure.size(), theirs.size()); i++) {
            if (i < theirs.size()) {
                mixed.add(theirs.get(i));
            }
            if (i < mercure.size()) {
                mixed.add(mercure.get(i));
            }
        }
        assertThat(AuthorizationDetails.parse(mixed, matchers)).isEqualTo(alone);
        assertThat(alone.details()).hasSize(mercure.size());
    }

    @Property(tries = 100)
    void grantsAreExactlyTheListedTopicsOfEachAction(@ForAll("validMercureEntries") List<Map<String, Object>> valid) {
        List<Map<String, Object>> claim = valid.subList(0, Math.min(valid.size(), 20));
        var grants = AuthorizationDetails.parse(claim, matchers);
        List<Matcher> publish = new ArrayList<>();
        for (Map<String, Object> e : claim) {
            if (((List<?>) e.get("actions")).contains("publish")) {
                for (Object t : (List<?>) e.get("topics")) {
                    publish.add(Matcher.exact((String) ((Map<?, ?>) t).get("match")));
                }
            }
        }
        assertThat(grants.publish()).isEqualTo(publish);
    }

    @Property(tries = 50)
    void moreTopicsThanTheCapAlwaysReject(@ForAll @IntRange(min = 101, max = 300) int n, @ForAll @IntRange(min = 1, max = 5) int split) {
        List<Object> claim = new ArrayList<>();
        int left = n;
        for (int i = 0; i < split && left > 0; i++) {
            int here = i == split - 1 ? left : Math.max(1, left / 2);
            List<Object> topics = new ArrayList<>();
            for (int j = 0; j < here; j++) {
                topics.add(topic("t" + j, null));
            }
            claim.add(entry(T, List.of("publish"), topics));
            left -= here;
        }
        assertThatThrownBy(() -> AuthorizationDetails.parse(claim, matchers)).hasMessageContaining("more than 100 topics");
    }
}
