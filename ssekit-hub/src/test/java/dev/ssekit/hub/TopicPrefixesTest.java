package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssekit.TopicSelector;
import dev.ssekit.urlpattern.UrlPattern;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The broadcaster's indexes over URL patterns and URI templates ({@link TopicPrefixes}, issue #24)
 * give exactly the verdicts of testing every pattern: for random patterns and topics full of what could
 * trip a prefix index (case, percent-encoding, default ports, dot segments, relative patterns and
 * topics resolved against hub URLs written in several ways, wildcards, optional and repeated groups,
 * regexp groups), a selector tested only when its key is among the topic's keys (as {@code
 * SubscriberIndex} does) matches exactly when {@link UrlPattern#test(String, String)} against the hub
 * URL (or the template) says so. And {@link TopicPrefixes#mayMatchUnder} (who watches subscription
 * events) is never false for a selector that matches a topic under the prefix.
 */
@Timeout(60)
class TopicPrefixesTest {

    private static final String[] HUBS = {"https://localhost/.well-known/mercure", MatcherStore.SYNTHETIC_HUB_URL,
        "https://Example.COM:443/.well-known/mercure", "http://127.0.0.1:8080/.well-known/mercure", "https://[::1]/.well-known/mercure"};
    private static final String[] ORIGINS = {"", "", "https://example.com", "HTTPS://EXAMPLE.com", "https://example.com:443",
        "http://example.com", "https://localhost", "https://LOCALHOST:443", "http://127.0.0.1:8080", "https://mercure.invalid",
        "https://[::1]", "https://[0::1]", "//example.com", "https://ex%61mple.com", "https://*.example.com", "http{s}?://example.com",
        "https://*", "*://localhost", "https://user@localhost", "https://caf\u00e9.example", "https://xn--caf-dma.example",
        "urn:", "foo://host"};
    private static final String[] SEGMENTS = {"books", "Books", "b%6Foks", "caf\u00e9", "caf%C3%A9", "other", "7", ":id", ":id+",
        ":id*", ":id?", "*", "(\\d+)", ":n(\\d+)", "{x}?", ".", "..", "a\\:b", ".well-known", "mercure", "subscriptions", "{/:z}?",
        "sub:x", "urlpattern", "exact", "*.json", "%2e%2e"};
    private static final String[] TOPIC_SEGMENTS = {"books", "Books", "b%6Foks", "boks", "caf\u00e9", "caf%C3%A9", "caf%c3%a9",
        "other", "7", "42", "", ".", "..", "%2e", "a:b", "x.json", ".well-known", "mercure", "subscriptions", "urlpattern", "exact",
        "sub", "urn%3Auuid%3A1", "\u00e9t\u00e9"};
    private static final String[] TEMPLATE_SEGMENTS = {"books", "{id}", "{+rest}", "{/path}", "{.ext}", "{?q}", "{#f}", "7", "{id}x",
        "a{b}c", "{;p}", ".well-known", "mercure", "subscriptions"};

    @Test
    void indexedUrlPatternsGiveTheVerdictsOfTestingEveryPattern() {
        Random r = new Random(2424);
        int matched = 0;
        int indexed = 0;
        int compared = 0;
        for (String hub : HUBS) {
            MatcherStore store = new MatcherStore(hub, 10_000);
            List<String> sources = new ArrayList<>();
            List<TopicSelector> selectors = new ArrayList<>();
            List<UrlPattern> truth = new ArrayList<>();
            while (selectors.size() < 250) {
                String p = pick(r, ORIGINS) + path(r, SEGMENTS) + (r.nextInt(6) == 0 ? (r.nextBoolean() ? "\\?q=:v" : "#*") : "");
                if (p.isEmpty()) {
                    continue;
                }
                UrlPattern expected;
                TopicSelector s;
                try {
                    expected = UrlPattern.compile(p, hub);
                    s = store.selector(Matcher.urlPattern(p));
                } catch (IllegalArgumentException invalid) {
                    continue;
                }
                sources.add(p);
                selectors.add(s);
                truth.add(expected);
                indexed += s.indexKey().isPresent() ? 1 : 0;
            }
            for (int t = 0; t < 400; t++) {
                String topic = topic(r);
                for (int i = 0; i < selectors.size(); i++) {
                    boolean expected = truth.get(i).test(topic, hub);
                    assertEquals(expected, indexedVerdict(selectors.get(i), topic), sources.get(i) + " on " + topic + " hub " + hub);
                    matched += expected ? 1 : 0;
                    compared++;
                }
            }
        }
        assertThat(indexed).as("patterns filed under a key").isGreaterThan(HUBS.length * 150);
        assertThat(matched).as("matching pairs of " + compared).isGreaterThan(2000);
    }

    @Test
    void indexedTemplatesGiveTheVerdictsOfTestingEveryTemplate() {
        Random r = new Random(2425);
        TopicSelectorStore store = new TopicSelectorStore(10_000);
        int matched = 0;
        List<String> templates = new ArrayList<>();
        while (templates.size() < 300) {
            String t = (r.nextBoolean() ? pick(r, new String[] {"https://example.com", "{+base}", "", "/.well-known/mercure"}) : "")
                    + path(r, TEMPLATE_SEGMENTS);
            if (t.indexOf('{') >= 0 && TopicMatcher.of(t).isTemplate()) {
                templates.add(t);
            }
        }
        for (int n = 0; n < 1000; n++) {
            String topic = r.nextInt(5) == 0 ? templates.get(r.nextInt(templates.size())) // a template matches itself
                    : pick(r, new String[] {"https://example.com", "", "/.well-known/mercure", "x"}) + path(r, TOPIC_SEGMENTS)
                    + (r.nextInt(5) == 0 ? pick(r, new String[] {".json", "?q=1", "#f", ";p=1"}) : "");
            for (String t : templates) {
                boolean expected = TopicMatcher.of(t).matches(topic);
                TopicSelector s = store.selector(t);
                assertTrue(s.indexKey().isPresent(), t);
                assertEquals(expected, indexedVerdict(s, topic), t + " on " + topic);
                matched += expected ? 1 : 0;
            }
        }
        assertThat(matched).as("matching pairs").isGreaterThan(1000);
    }

    @Test
    void aSelectorThatMatchesASubscriptionTopicMayMatchUnderItsPrefix() {
        Random r = new Random(2426);
        String ns = Subscriptions.PATH + "/";
        String climbed = MercureProtocol.PATH + "/urn%3Auuid%3A"; // a v8 topic ".." climbs one segment
        int watchers = 0;
        int others = 0;
        for (String hub : HUBS) {
            MatcherStore store = new MatcherStore(hub, 10_000);
            TopicSelectorStore templates = new TopicSelectorStore(10_000);
            List<String> topics = new ArrayList<>();
            for (int n = 0; n < 60; n++) {
                String type = pick(r, new String[] {"exact", "urlpattern"});
                String match = pick(r, new String[] {"books", "https://example.com/b", "*", ".", "..", "/x/:id", "{id}"});
                String subscriber = "urn:uuid:" + java.util.UUID.randomUUID();
                topics.add(Subscriptions.id(new Subscriptions.Match(new Matcher(type, match), Optional.empty()), subscriber));
                topics.add(LegacySubscriptions.id(match, subscriber));
            }
            List<TopicSelector> selectors = new ArrayList<>();
            List<String> sources = new ArrayList<>();
            while (selectors.size() < 300) {
                String p = pick(r, ORIGINS) + path(r, SEGMENTS);
                try {
                    selectors.add(store.selector(Matcher.urlPattern(p)));
                    sources.add(p);
                } catch (IllegalArgumentException invalid) {
                    // not a pattern
                }
            }
            for (String t : topics) { // exact matchers on the topics and their starts
                selectors.add(store.selector(Matcher.exact(t)));
                sources.add("exact " + t);
                selectors.add(store.selector(Matcher.exact(t.substring(0, t.lastIndexOf('/') + 1))));
                sources.add("exact start of " + t);
            }
            for (String t : new String[] {"/.well-known/mercure/subscriptions/{+rest}", "/.well-known/{+rest}", "{+all}",
                "/.well-known/mercure/subscriptions/exact/{m}/{s}", "/.well-known/mercure/{s}", "/books/{id}", "https://localhost/{+x}"}) {
                selectors.add(templates.selector(t));
                sources.add("template " + t);
            }
            for (int i = 0; i < selectors.size(); i++) {
                TopicSelector s = selectors.get(i);
                boolean matchesOne = topics.stream().anyMatch(s::matches);
                boolean may = TopicPrefixes.mayMatchUnder(s, ns) || TopicPrefixes.mayMatchUnder(s, climbed);
                if (matchesOne) {
                    assertTrue(may, sources.get(i) + " matches a subscription topic, hub " + hub);
                    watchers++;
                } else if (!may) {
                    others++;
                }
            }
        }
        assertThat(watchers).as("selectors matching a subscription topic").isGreaterThan(100);
        assertThat(others).as("selectors ruled out").isGreaterThan(500);
    }

    @Test
    void deepAndLongPatternsAreFiledWithinTheBoundsAndStillFound() {
        MatcherStore store = new MatcherStore(SubscriptionEventsHubTest.HUB, 100);
        String deep = "/a".repeat(40) + "/:id";
        TopicSelector s = store.selector(Matcher.urlPattern(deep));
        String topic = "/a".repeat(40) + "/7";
        assertTrue(indexedVerdict(s, topic), "a pattern of 41 segments");
        assertThat(((TopicPrefixes.UrlKey) s.indexKey().orElseThrow()).path()).hasSize(2 * (TopicPrefixes.MAX_BOUNDARIES - 1) + 1);
        String longSegments = "/" + "x".repeat(700) + "/" + "y".repeat(700) + "/:id";
        TopicSelector l = store.selector(Matcher.urlPattern(longSegments));
        assertTrue(indexedVerdict(l, "/" + "x".repeat(700) + "/" + "y".repeat(700) + "/1"), "a pattern past 1,024 characters");
        assertThat(((TopicPrefixes.UrlKey) l.indexKey().orElseThrow()).path()).hasSize(702);
        List<Object> keys = new ArrayList<>();
        TopicPrefixes.TEMPLATES.keys("/".repeat(2048), keys::add);
        assertThat(keys).as("a topic of 2,048 slashes").hasSize(TopicPrefixes.MAX_BOUNDARIES + 1);
        TopicSelector t = new TopicSelectorStore(10).selector("/b".repeat(30) + "/{id}");
        assertTrue(indexedVerdict(t, "/b".repeat(30) + "/x"), "a template of 31 segments");
    }

    /** What SubscriberIndex decides: a keyed selector only when the topic names its key. */
    private static boolean indexedVerdict(TopicSelector s, String topic) {
        if (s.index().isEmpty()) {
            return s.matches(topic);
        }
        Set<Object> keys = new HashSet<>();
        s.index().get().keys(topic, keys::add);
        return keys.contains(s.indexKey().orElseThrow()) && s.matches(topic);
    }

    private static String topic(Random r) {
        StringBuilder t = new StringBuilder(pick(r, new String[] {"", "", "https://example.com", "HTTPS://EXAMPLE.COM",
            "https://example.com:443", "http://example.com", "https://localhost", "https://LOCALHOST", "http://127.0.0.1:8080",
            "https://mercure.invalid", "https://[::1]", "https://[0:0::1]", "https://a.example.com", "https://ex%61mple.com",
            "https://caf\u00e9.example", "urn:isbn", "foo://host", "not a url://x", "//example.com"}));
        t.append(path(r, TOPIC_SEGMENTS));
        if (r.nextInt(5) == 0) {
            t.append(r.nextBoolean() ? "?q=1" : "#f");
        }
        return t.toString();
    }

    private static String path(Random r, String[] segments) {
        StringBuilder p = new StringBuilder();
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
            p.append(r.nextInt(8) == 0 ? "" : "/").append(pick(r, segments));
        }
        if (r.nextInt(5) == 0) {
            p.append(r.nextBoolean() ? "/*" : "/");
        }
        return p.toString();
    }

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }
}
