package dev.ssekit.urlpattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Every case of web-platform-tests' urlpatterntestdata.json (366), checked as WPT's
 * urlpatterntests.js checks it: the constructor (or its TypeError), each component's pattern
 * string, test(), exec() with its inputs and groups. The cases that need what RE2/J lacks are
 * {@link #EXPECTED_FAILURES}: each of those must fail and every other case must pass, so a case that
 * starts passing, or a new failure, fails the build.
 */
@Timeout(60)
class WptConformanceTest {
    /** Case index (0-based, in file order) to the reason it cannot pass; README lists the same. */
    static final Map<Integer, String> EXPECTED_FAILURES = Map.of(
            349, "/([[a-z]--a]): the v flag's class subtraction (nested class, --), which RE2/J lacks",
            350, "/([[a-z]--a]): the v flag's class subtraction (nested class, --), which RE2/J lacks",
            351, "/([\\d&&[0-1]]): the v flag's class intersection (&&), which RE2/J lacks",
            352, "/([\\d&&[0-1]]): the v flag's class intersection (&&), which RE2/J lacks");

    static final List<String> COMPONENTS = List.of("protocol", "username", "password", "hostname", "port",
            "pathname", "search", "hash");

    static final Map<Integer, String> FAILED = new TreeMap<>();
    static final Set<Integer> RAN = new TreeSet<>();

    @SuppressWarnings("unchecked")
    static List<Object> cases() throws Exception {
        try (InputStream in = WptConformanceTest.class.getResourceAsStream("/wpt/urlpatterntestdata.json")) {
            return (List<Object>) JSON.std.anyFrom(in);
        }
    }

    @TestFactory
    Stream<DynamicTest> wpt() throws Exception {
        List<Object> cases = cases();
        assertEquals(366, cases.size(), "the WPT data holds 366 cases");
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            int index = i;
            @SuppressWarnings("unchecked")
            Map<String, Object> entry = (Map<String, Object>) cases.get(i);
            String name = "#" + i + " pattern " + JSON.std.asString(entry.get("pattern")) + " inputs "
                    + JSON.std.asString(entry.get("inputs"));
            tests.add(DynamicTest.dynamicTest(name, () -> {
                RAN.add(index);
                String failure = null;
                try {
                    runCase(entry);
                } catch (AssertionError | RuntimeException e) {
                    failure = e.toString();
                    FAILED.put(index, failure);
                }
                if (EXPECTED_FAILURES.containsKey(index)) {
                    assertThat(failure).as("case %d is listed as an expected failure (%s) but passes", index,
                            EXPECTED_FAILURES.get(index)).isNotNull();
                    // and it fails for the listed reason: the construct is rejected by name at compile time
                    assertThat(failure).contains("IllegalArgumentException").contains("the v flag's class set");
                } else if (failure != null) {
                    throw new AssertionError("case " + index + " fails: " + failure);
                }
            }));
        }
        return tests.stream();
    }

    @AfterAll
    static void summary() {
        System.out.println("WPT urlpattern: " + (RAN.size() - FAILED.size()) + " of " + RAN.size() + " pass; failing "
                + FAILED);
    }

    @Test
    void theExpectedFailuresAreCasesOfTheData() throws Exception {
        int n = cases().size();
        for (int i : EXPECTED_FAILURES.keySet()) {
            assertThat(i).isBetween(0, n - 1);
        }
    }

    // ------------------------------------------------------------------ one case, as urlpatterntests.js runs it

    @SuppressWarnings("unchecked")
    static void runCase(Map<String, Object> entry) {
        List<Object> pattern = (List<Object>) entry.get("pattern");
        Object expectedObj = entry.get("expected_obj");
        if ("error".equals(expectedObj)) {
            assertThrows(IllegalArgumentException.class, () -> construct(pattern), "constructor must throw");
            return;
        }
        UrlPattern p = construct(pattern);
        Map<String, Object> eo = expectedObj instanceof Map ? (Map<String, Object>) expectedObj : Map.of();
        List<String> exactlyEmpty = (List<String>) entry.getOrDefault("exactly_empty_components", List.of());
        for (String component : COMPONENTS) {
            String expected = (String) eo.get(component);
            if (expected == null) {
                expected = expectedPatternString(pattern, component, exactlyEmpty);
            }
            assertEquals(expected, component(p, component), "compiled pattern property '" + component + "'");
        }
        List<Object> inputs = (List<Object>) entry.getOrDefault("inputs", List.of());
        Object expectedMatch = entry.get("expected_match");
        if ("error".equals(expectedMatch)) {
            assertThrows(IllegalArgumentException.class, () -> test(p, inputs), "test() must throw");
            assertThrows(IllegalArgumentException.class, () -> exec(p, inputs), "exec() must throw");
            return;
        }
        assertEquals(expectedMatch != null, test(p, inputs), "test() result");
        Optional<UrlPatternResult> result = exec(p, inputs);
        if (expectedMatch == null) {
            assertThat(result).as("exec() failed match result").isEmpty();
            return;
        }
        assertThat(result).as("exec() result").isPresent();
        UrlPatternResult r = result.get();
        Map<String, Object> em = (Map<String, Object>) expectedMatch;
        List<Object> expectedInputs = (List<Object>) em.getOrDefault("inputs", inputs);
        assertEquals(expectedInputs.size(), r.inputs().size(), "exec() result.inputs.length");
        for (int i = 0; i < expectedInputs.size(); i++) {
            Object in = r.inputs().get(i);
            Object ex = expectedInputs.get(i);
            if (in instanceof String s) {
                assertEquals(ex, s, "exec() result.inputs[" + i + "]");
                continue;
            }
            UrlPatternInit init = (UrlPatternInit) in;
            Map<String, Object> exm = (Map<String, Object>) ex;
            for (String component : COMPONENTS) {
                assertEquals(exm.get(component), initComponent(init, component),
                        "exec() result.inputs[" + i + "][" + component + "]");
            }
        }
        for (String component : COMPONENTS) {
            Map<String, Object> expected = (Map<String, Object>) em.get(component);
            String expectedInput;
            Map<String, Object> expectedGroups;
            if (expected == null) {
                expectedInput = "";
                expectedGroups = new HashMap<>();
                if (!exactlyEmpty.contains(component)) {
                    expectedGroups.put("0", "");
                }
            } else {
                expectedInput = (String) expected.get("input");
                expectedGroups = (Map<String, Object>) expected.get("groups");
            }
            UrlPatternComponentResult actual = componentResult(r, component);
            assertEquals(expectedInput, actual.input(), "exec() result for " + component + ": input");
            assertEquals(new HashMap<>(expectedGroups), new HashMap<>(actual.groups()),
                    "exec() result for " + component + ": groups");
        }
    }

    static final Map<String, List<String>> EARLIER_COMPONENTS = Map.of(
            "protocol", List.of(),
            "hostname", List.of("protocol"),
            "port", List.of("protocol", "hostname"),
            "username", List.of(),
            "password", List.of(),
            "pathname", List.of("protocol", "hostname", "port"),
            "search", List.of("protocol", "hostname", "port", "pathname"),
            "hash", List.of("protocol", "hostname", "port", "pathname", "search"));

    @SuppressWarnings("unchecked")
    static String expectedPatternString(List<Object> pattern, String component, List<String> exactlyEmpty) {
        String baseURL = null;
        if (!pattern.isEmpty() && pattern.get(0) instanceof Map<?, ?> m && m.get("baseURL") != null) {
            baseURL = (String) m.get("baseURL");
        } else if (pattern.size() > 1 && pattern.get(1) instanceof String s) {
            baseURL = s;
        }
        Map<String, Object> first = !pattern.isEmpty() && pattern.get(0) instanceof Map<?, ?>
                ? (Map<String, Object>) pattern.get(0) : null;
        if (exactlyEmpty.contains(component)) {
            return "";
        }
        if (first != null && first.get(component) != null && !((String) first.get(component)).isEmpty()) {
            return (String) first.get(component);
        }
        if (first != null && EARLIER_COMPONENTS.get(component).stream().anyMatch(first::containsKey)) {
            return "*";
        }
        if (baseURL != null && !component.equals("username") && !component.equals("password")) {
            // the URL getter of the base, as WPT reads it from the browser's URL class
            WhatwgUrl base = WhatwgUrl.parse(baseURL, null);
            return switch (component) {
                case "protocol" -> base.scheme;
                case "hostname" -> base.host == null ? "" : base.host;
                case "port" -> base.portString();
                case "pathname" -> base.pathString();
                case "search" -> base.query == null ? "" : base.query;
                default -> base.fragment == null ? "" : base.fragment;
            };
        }
        return "*";
    }

    @SuppressWarnings("unchecked")
    static UrlPatternInit init(Object o) {
        Map<String, Object> m = (Map<String, Object>) o;
        return new UrlPatternInit((String) m.get("protocol"), (String) m.get("username"), (String) m.get("password"),
                (String) m.get("hostname"), (String) m.get("port"), (String) m.get("pathname"),
                (String) m.get("search"), (String) m.get("hash"), (String) m.get("baseURL"));
    }

    @SuppressWarnings("unchecked")
    static UrlPatternOptions options(Object o) {
        Map<String, Object> m = (Map<String, Object>) o;
        return new UrlPatternOptions(Boolean.TRUE.equals(m.get("ignoreCase")));
    }

    /**
     * new URLPattern(...args) mapped onto the Java API. The one call it has no overload for, an init
     * with a base URL string as second argument, is the TypeError the IDL gives it: the Java API
     * rejects it at compile time, so it is mapped to that IllegalArgumentException here.
     */
    static UrlPattern construct(List<Object> args) {
        if (args.isEmpty()) {
            return UrlPattern.compile(EMPTY_INIT);
        }
        Object a0 = args.get(0);
        if (a0 instanceof String s) {
            if (args.size() == 1) {
                return UrlPattern.compile(s);
            }
            if (args.get(1) instanceof String base) {
                return args.size() > 2 ? UrlPattern.compile(s, base, options(args.get(2))) : UrlPattern.compile(s, base);
            }
            return UrlPattern.compile(s, null, options(args.get(1)));
        }
        if (args.size() > 1 && args.get(1) instanceof String) {
            throw new IllegalArgumentException("an init with a base URL argument (no such overload)");
        }
        return args.size() > 1 ? UrlPattern.compile(init(a0), options(args.get(1))) : UrlPattern.compile(init(a0));
    }

    /** An init with no component set: what {@code new URLPattern()} and {@code test()} without input take. */
    static final UrlPatternInit EMPTY_INIT = new UrlPatternInit(null, null, null, null, null, null, null, null, null);

    /**
     * A test or exec call's inputs mapped onto the Java overloads: none (the empty init), a URL
     * string with or without a base URL, or an init; an init with a base URL has no overload.
     */
    static <R> R withInputs(List<Object> inputs, Function<UrlPatternInit, R> onInit, Function<String, R> onUrl,
            BiFunction<String, String, R> onUrlAndBase) {
        if (inputs.isEmpty()) {
            return onInit.apply(EMPTY_INIT);
        }
        if (inputs.get(0) instanceof String s) {
            return inputs.size() > 1 ? onUrlAndBase.apply(s, (String) inputs.get(1)) : onUrl.apply(s);
        }
        if (inputs.size() > 1) {
            throw new IllegalArgumentException("an init with a base URL argument (no such overload)");
        }
        return onInit.apply(init(inputs.get(0)));
    }

    static boolean test(UrlPattern p, List<Object> inputs) {
        return withInputs(inputs, p::test, p::test, p::test);
    }

    static Optional<UrlPatternResult> exec(UrlPattern p, List<Object> inputs) {
        return withInputs(inputs, p::exec, p::exec, p::exec);
    }

    /** The one of the eight components named {@code c} (anything else: the hash), from its getter. */
    private static <T> T byName(String c, Supplier<T> protocol, Supplier<T> username, Supplier<T> password,
            Supplier<T> hostname, Supplier<T> port, Supplier<T> pathname, Supplier<T> search, Supplier<T> hash) {
        return switch (c) {
            case "protocol" -> protocol.get();
            case "username" -> username.get();
            case "password" -> password.get();
            case "hostname" -> hostname.get();
            case "port" -> port.get();
            case "pathname" -> pathname.get();
            case "search" -> search.get();
            default -> hash.get();
        };
    }

    static String component(UrlPattern p, String c) {
        return byName(c, p::protocol, p::username, p::password, p::hostname, p::port, p::pathname, p::search, p::hash);
    }

    static String initComponent(UrlPatternInit p, String c) {
        return byName(c, p::protocol, p::username, p::password, p::hostname, p::port, p::pathname, p::search, p::hash);
    }

    static UrlPatternComponentResult componentResult(UrlPatternResult r, String c) {
        return byName(c, r::protocol, r::username, r::password, r::hostname, r::port, r::pathname, r::search, r::hash);
    }
}
