package dev.ssekit.urlpattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link UrlPatternInput}: a URL parsed once gives the same answers as the string methods, over every
 * case of the WPT data (WptConformanceTest's file) whose input is a string, each pattern also tried
 * against every other case's string input (a property over the data: same test(), same exec()).
 */
@Timeout(60)
class UrlPatternInputTest {

    /** A string input of the data: the URL and its base URL (null for none). */
    private record Input(String input, String baseUrl) {
    }

    @Test
    @SuppressWarnings("unchecked")
    void parsedOnceGivesWhatTheStringMethodsGiveForEveryStringInputOfTheData() throws Exception {
        List<Object> cases = WptConformanceTest.cases();
        List<Input> inputs = new java.util.ArrayList<>();
        List<UrlPattern> patterns = new java.util.ArrayList<>();
        for (Object c : cases) {
            Map<String, Object> entry = (Map<String, Object>) c;
            List<Object> in = (List<Object>) entry.getOrDefault("inputs", List.of());
            if (!in.isEmpty() && in.get(0) instanceof String s && (in.size() == 1 || in.get(1) instanceof String)) {
                inputs.add(new Input(s, in.size() > 1 ? (String) in.get(1) : null));
            }
            try {
                patterns.add(WptConformanceTest.construct((List<Object>) entry.get("pattern")));
            } catch (IllegalArgumentException invalid) {
                // a case whose pattern must not compile: nothing to match
            }
        }
        assertThat(inputs).as("string inputs in the data").hasSizeGreaterThan(60);
        assertThat(patterns).as("patterns that compile in the data").hasSizeGreaterThan(250);
        int compared = 0;
        int matched = 0;
        int unparsed = 0;
        for (Input in : inputs) {
            Optional<UrlPatternInput> parsed = UrlPatternInput.parse(in.input, in.baseUrl);
            if (parsed.isEmpty()) {
                unparsed++;
            } else {
                assertEquals(in.baseUrl == null ? List.of(in.input) : List.of(in.input, in.baseUrl),
                        parsed.get().inputs(), "inputs of " + in);
            }
            Optional<UrlPatternInput> resolved = in.baseUrl == null ? Optional.empty()
                    : UrlPatternInput.parse(in.baseUrl).flatMap(b -> b.resolve(in.input));
            for (UrlPattern p : patterns) {
                boolean expected = p.test(in.input, in.baseUrl);
                Optional<UrlPatternResult> expectedResult = p.exec(in.input, in.baseUrl);
                String what = p + " on " + in;
                if (parsed.isEmpty()) {
                    assertEquals(false, expected, what + ": an input that does not parse matches nothing");
                    assertThat(expectedResult).as(what).isEmpty();
                    continue;
                }
                assertEquals(expected, p.test(parsed.get()), "test() of " + what);
                assertEquals(expectedResult, p.exec(parsed.get()), "exec() of " + what);
                if (in.baseUrl != null && UrlPatternInput.parse(in.baseUrl).isPresent()) {
                    assertThat(resolved).as("resolve() of " + in).isPresent();
                    assertEquals(expected, p.test(resolved.get()), "test() of resolved " + what);
                    assertEquals(expectedResult, p.exec(resolved.get()), "exec() of resolved " + what);
                }
                compared++;
                matched += expected ? 1 : 0;
            }
        }
        // the property is not vacuous: inputs that parse and do not, pairs that match and do not
        assertThat(unparsed).as("inputs that do not parse").isPositive();
        assertThat(matched).as("matching pairs").isGreaterThan(100);
        assertThat(compared - matched).as("non-matching pairs").isGreaterThan(1000);
    }

    @Test
    void theDataCasesResultsHoldThroughAParsedInput() {
        UrlPattern p = UrlPattern.compile("/books/:id", "https://example.com");
        UrlPatternInput in = UrlPatternInput.parse("/books/42?x", "https://example.com/a").orElseThrow();
        assertThat(p.test(in)).isTrue();
        UrlPatternResult r = p.exec(in).orElseThrow();
        assertEquals(Map.of("id", "42"), r.pathname().groups());
        assertEquals(List.of("/books/42?x", "https://example.com/a"), r.inputs());
        assertThat(p.test(UrlPatternInput.parse("https://example.org/books/42").orElseThrow())).isFalse();
        UrlPatternInput base = UrlPatternInput.parse("https://example.com/hub").orElseThrow();
        assertEquals(List.of("/books/7", "https://example.com/hub"), base.resolve("/books/7").orElseThrow().inputs());
        assertThat(p.test(base.resolve("/books/7").orElseThrow())).isTrue();
    }

    @Test
    void inputsThatDoNotParseAreEmpty() {
        assertThat(UrlPatternInput.parse("/relative")).isEmpty();
        assertThat(UrlPatternInput.parse("/relative", null)).isEmpty();
        assertThat(UrlPatternInput.parse("https://example.com/", "not a URL")).isEmpty();
        assertThat(UrlPatternInput.parse("https://exa mple.com/")).isEmpty();
        assertThat(UrlPatternInput.parse("http://[::1/").isEmpty()).isTrue();
        UrlPatternInput base = UrlPatternInput.parse("https://example.com/").orElseThrow();
        assertThat(base.resolve("http://[::1/")).isEmpty();
    }

    @Test
    void nullsAreRefused() {
        UrlPattern p = UrlPattern.compile("https://example.com/*");
        UrlPatternInput base = UrlPatternInput.parse("https://example.com/").orElseThrow();
        assertThrows(NullPointerException.class, () -> UrlPatternInput.parse(null));
        assertThrows(NullPointerException.class, () -> UrlPatternInput.parse(null, "https://example.com/"));
        assertThrows(NullPointerException.class, () -> base.resolve(null));
        assertThrows(NullPointerException.class, () -> p.test((UrlPatternInput) null));
        assertThrows(NullPointerException.class, () -> p.exec((UrlPatternInput) null));
    }
}
