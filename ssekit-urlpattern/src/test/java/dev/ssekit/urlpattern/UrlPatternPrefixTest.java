package dev.ssekit.urlpattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link UrlPattern#fixedProtocol()}, {@link UrlPattern#fixedHostname()} and {@link
 * UrlPattern#pathnamePrefix()} are conservative (issue #24, an index over many patterns): whenever a
 * pattern matches a URL, the URL's parsed protocol and hostname are the fixed ones and its pathname
 * starts with the prefix. Checked over every pattern and string input of the WPT data, and over
 * randomly built patterns and URLs full of what could trip an index: case, percent-encoding, default
 * ports, dot segments, relative patterns and URLs resolved against base URLs, {@code ignoreCase},
 * wildcards, optional and repeated groups, regexp groups, escapes. And not vacuous: the figures are
 * known for the ordinary patterns, and many pairs match.
 */
@Timeout(60)
class UrlPatternPrefixTest {

    @Test
    void theExamplesOfTheJavadoc() {
        UrlPattern books = UrlPattern.compile("https://example.com/books/:id");
        assertThat(books.fixedProtocol()).contains("https");
        assertThat(books.fixedHostname()).contains("example.com");
        assertThat(books.pathnamePrefix()).isEqualTo("/books/");
        assertThat(UrlPattern.compile("https://example.com/books{/:id}?").pathnamePrefix()).isEqualTo("/books");
        assertThat(UrlPattern.compile("https://example.com/books/:id+").pathnamePrefix()).isEqualTo("/books/");
        assertThat(UrlPattern.compile("https://example.com/books/:id*").pathnamePrefix()).isEqualTo("/books");
        assertThat(UrlPattern.compile("https://example.com/*").pathnamePrefix()).isEqualTo("/");
        assertThat(UrlPattern.compile("https://example.com/Books/:id", null, new UrlPatternOptions(true)).pathnamePrefix())
                .as("ignoreCase").isEmpty();
        assertThat(UrlPattern.compile("/other/7/:id", "https://Example.COM:443/hub").fixedHostname())
                .as("a relative pattern takes its base URL's host, as the parser serialises it").contains("example.com");
        assertThat(UrlPattern.compile("/other/7/:id", "https://example.com/hub").fixedProtocol()).contains("https");
        assertThat(UrlPattern.compile("http{s}?://example.com/").fixedProtocol()).isEmpty();
        assertThat(UrlPattern.compile("https://*.example.com/").fixedHostname()).isEmpty();
        assertThat(UrlPattern.compile("https://example.com/caf\u00e9/:x").pathnamePrefix())
                .as("percent-encoded as the parser encodes a path").isEqualTo("/caf%C3%A9/");
        assertThat(UrlPatternInput.parse("HTTPS://EXAMPLE.com:443/a/./b/../c").orElseThrow())
                .satisfies(u -> {
                    assertThat(u.protocol()).isEqualTo("https");
                    assertThat(u.hostname()).isEqualTo("example.com");
                    assertThat(u.pathname()).isEqualTo("/a/c");
                });
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyMatchOfTheWptDataHasTheFixedPartsAndThePrefix() throws Exception {
        List<Object> cases = WptConformanceTest.cases();
        List<String[]> inputs = new ArrayList<>();
        List<UrlPattern> patterns = new ArrayList<>();
        for (Object c : cases) {
            Map<String, Object> entry = (Map<String, Object>) c;
            List<Object> in = (List<Object>) entry.getOrDefault("inputs", List.of());
            if (!in.isEmpty() && in.get(0) instanceof String s && (in.size() == 1 || in.get(1) instanceof String)) {
                inputs.add(new String[] {s, in.size() > 1 ? (String) in.get(1) : null});
            }
            try {
                patterns.add(WptConformanceTest.construct((List<Object>) entry.get("pattern")));
            } catch (IllegalArgumentException invalid) {
                // a case whose pattern must not compile
            }
        }
        int matched = 0;
        for (String[] in : inputs) {
            Optional<UrlPatternInput> parsed = UrlPatternInput.parse(in[0], in[1]);
            for (UrlPattern p : patterns) {
                if (p.test(in[0], in[1])) {
                    matched++;
                    check(p, parsed.orElseThrow(), p + " on " + in[0] + " base " + in[1]);
                }
            }
        }
        assertThat(matched).as("matching pairs in the data").isGreaterThan(100);
    }

    private static final String[] BASES = {"https://example.com/.well-known/mercure", "https://Example.COM:443/hub",
        "http://example.com:8080/a/b", "https://localhost/", "wss://example.com/x", "foo://host/p/q", "https://[::1]/h"};
    private static final String[] PROTOCOLS = {"https", "http", "HTTPS", "http{s}?", "*", "ht*", "(https|wss)", "wss", "foo",
        "http\\s", ":p", "file"};
    private static final String[] HOSTS = {"example.com", "EXAMPLE.com", "localhost", "*.example.com", "*", ":h",
        "example.com:443", "example.com:80", "example.com:8080", "exa{mple}?.com", "[::1]", "xn--caf-dma.example", "café.example",
        "ex%61mple.com", "user:pw@example.com"};
    private static final String[] SEGMENTS = {"books", "Books", "b%6Foks", "caf\u00e9", "caf%C3%A9", "other", "7", ":id", ":id+",
        ":id*", ":id?", "*", "(\\d+)", ":n(\\d+)", "{x}?", "{x}", "{:a}?", ".", "..", "%2e", "a\\:b", "a%2Fb", " sp", "\u00e9*",
        ".well-known", "mercure", "subscriptions", "{/:z}?", "a{b}?c", ":a-:b", "*.json", "\\*"};
    private static final String[] TOPIC_SEGMENTS = {"books", "Books", "BOOKS", "b%6Foks", "boks", "caf\u00e9", "caf%C3%A9",
        "caf%c3%a9", "other", "7", "42", "", ".", "..", "%2e", "%2E%2E", "a:b", "a%2Fb", " sp", "x.json", ".well-known", "mercure",
        "subscriptions", "*", "abc", "b", "\u00e9t\u00e9"};
    private static final String[] TOPIC_ORIGINS = {"https://example.com", "HTTPS://EXAMPLE.COM", "https://example.com:443",
        "http://example.com", "http://example.com:80", "http://example.com:8080", "https://localhost", "wss://example.com",
        "foo://host", "https://a.example.com", "https://[::1]", "https://[0:0::1]", "https://xn--caf-dma.example",
        "https://caf\u00e9.example", "https://ex%61mple.com", "https://user:pw@example.com", ""};

    @Test
    void everyMatchOfRandomPatternsAndUrlsHasTheFixedPartsAndThePrefix() {
        Random r = new Random(24);
        List<UrlPattern> patterns = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        int withHost = 0;
        int withPrefix = 0;
        while (patterns.size() < 600) {
            String base = r.nextInt(3) == 0 ? null : pick(r, BASES);
            StringBuilder p = new StringBuilder();
            if (base == null || r.nextBoolean()) {
                p.append(pick(r, PROTOCOLS)).append("://").append(pick(r, HOSTS));
            }
            int segments = r.nextInt(5);
            for (int i = 0; i < segments; i++) {
                p.append(r.nextInt(8) == 0 ? "" : "/").append(pick(r, SEGMENTS));
            }
            if (r.nextInt(4) == 0) {
                p.append(r.nextBoolean() ? "/*" : "/");
            }
            if (r.nextInt(6) == 0) {
                p.append(r.nextBoolean() ? "\\?q=:v" : "#*");
            }
            UrlPatternOptions options = new UrlPatternOptions(r.nextInt(5) == 0);
            try {
                UrlPattern compiled = UrlPattern.compile(p.toString(), base, options);
                patterns.add(compiled);
                sources.add(p + " base " + base + " " + options);
                withHost += compiled.fixedHostname().isPresent() ? 1 : 0;
                withPrefix += compiled.pathnamePrefix().length() > 1 ? 1 : 0;
            } catch (IllegalArgumentException invalid) {
                // a combination that is not a pattern
            } catch (RuntimeException e) {
                throw new AssertionError("compiling " + p + " base " + base + " threw other than IllegalArgumentException", e);
            }
        }
        assertThat(withHost).as("patterns with a fixed hostname").isGreaterThan(150);
        assertThat(withPrefix).as("patterns with a pathname prefix past '/'").isGreaterThan(150);
        int matched = 0;
        int compared = 0;
        for (int t = 0; t < 1500; t++) {
            StringBuilder topic = new StringBuilder(pick(r, TOPIC_ORIGINS));
            int segments = r.nextInt(5);
            for (int i = 0; i < segments; i++) {
                topic.append(topic.isEmpty() && r.nextBoolean() ? "" : "/").append(pick(r, TOPIC_SEGMENTS));
            }
            if (r.nextInt(5) == 0) {
                topic.append(r.nextBoolean() ? "?q=1" : "#f");
            }
            String base = r.nextInt(4) == 0 ? null : pick(r, BASES);
            Optional<UrlPatternInput> parsed = UrlPatternInput.parse(topic.toString(), base);
            for (int i = 0; i < patterns.size(); i++) {
                UrlPattern p = patterns.get(i);
                boolean expected = p.test(topic.toString(), base);
                compared++;
                if (expected) {
                    matched++;
                    check(p, parsed.orElseThrow(), sources.get(i) + " on " + topic + " base " + base);
                }
                assertEquals(expected, parsed.isPresent() && p.test(parsed.get()), sources.get(i) + " on " + topic);
            }
        }
        assertThat(matched).as("matching pairs of " + compared).isGreaterThan(1000);
    }

    private static void check(UrlPattern p, UrlPatternInput url, String what) {
        p.fixedProtocol().ifPresent(v -> assertEquals(v, url.protocol(), "protocol of " + what));
        p.fixedHostname().ifPresent(v -> assertEquals(v, url.hostname(), "hostname of " + what));
        assertThat(url.pathname()).as("pathname of " + what).startsWith(p.pathnamePrefix());
    }

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }
}
