package dev.ssekit.hub;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A Mercure 1.0 subscription's matchers, read from its query (and a QUERY request's form body,
 * already unioned): {@code match=} and {@code match_exact=} (exact), {@code match_urlpattern=}
 * (URL Pattern), repeatable and mixed (draft-dunglas-mercure-08 L137-186). Names are
 * case-sensitive; any other name equal to {@code match} or starting with it, compared ASCII
 * case-insensitively ({@code Match}, {@code match_regex}, {@code matches}), is refused with 400, as
 * is a request without a matcher, more than {@link #MAX_MATCHERS} matchers, a value over {@link
 * MatcherStore#MAX_BYTES}, URL patterns of more than {@link #MAX_PATTERN_BYTES} in all, a value with a control or format character, and a pattern its type
 * refuses. Identical matchers count once. Stateless.
 */
final class SubscribeMatchers {

    /** The most matchers one subscription may give (the reference hub's cap). */
    static final int MAX_MATCHERS = 100;

    /**
     * The most bytes (UTF-8) of URL patterns one subscription may give, over all its {@code
     * match_urlpattern} values (issue #24). Compiling a URL pattern costs about 23 ms of CPU per 4,096
     * bytes whatever its groups hold (MatcherWorstCaseTest: 64 groups and literal filler cost as much as
     * 1,000 groups), so the work is bounded by bytes, not by groups: 100 patterns of 4,096 bytes (the
     * reference hub's caps, which it compiles in the request's goroutine) cost 2.3 s; this budget, 8 such
     * patterns or 100 of 327 bytes, about 0.2 s, on the hub's compiler threads. Real patterns are tens of bytes.
     */
    static final int MAX_PATTERN_BYTES = 32 << 10;

    private SubscribeMatchers() {
    }

    /**
     * The matchers of a subscription.
     *
     * @param params the decoded query (and body) fields
     * @param matchers compiles and checks each matcher
     * @param legacyTopics the number of 0.x {@code topic=} values the caller accepts beside them
     *     (compatibility mode), or -1 when {@code topic=} is refused (400, as any 0.x input)
     * @return the matchers, in order of first appearance, without duplicates; empty only when
     *     legacy topics were given
     * @throws Rejection 400 naming the parameter and the reason
     */
    static List<Matcher> parse(Map<String, List<String>> params, MatcherStore matchers, int legacyTopics) throws Rejection {
        long patternBytes = 0; // refused before anything is compiled
        for (String value : params.getOrDefault("match_urlpattern", List.of())) {
            patternBytes += value.equals("*") ? 0 : MercureProtocol.utf8Length(value);
        }
        if (patternBytes > MAX_PATTERN_BYTES) {
            throw new Rejection(400, "match_urlpattern values must total at most " + MAX_PATTERN_BYTES
                    + " bytes in one subscription, got " + patternBytes);
        }
        Set<Matcher> out = new LinkedHashSet<>();
        int count = Math.max(0, legacyTopics);
        for (Map.Entry<String, List<String>> field : params.entrySet()) {
            String name = field.getKey();
            String type = switch (name) {
                case "match", "match_exact" -> Matcher.EXACT;
                case "match_urlpattern" -> Matcher.URLPATTERN;
                default -> null;
            };
            if (type == null) {
                if (name.length() >= 5 && name.substring(0, 5).toLowerCase(Locale.ROOT).equals("match")) {
                    throw new Rejection(400, "unsupported matcher parameter: " + printable(name));
                }
                if (name.equals("topic") && legacyTopics < 0) {
                    throw new Rejection(400, "topic= is Mercure 0.x: subscribe with match= or match_urlpattern= "
                            + "(or start the hub with --protocol-version-compatibility 8)");
                }
                continue;
            }
            for (String value : field.getValue()) {
                count++;
                if (count > MAX_MATCHERS) {
                    throw new Rejection(400, "more than " + MAX_MATCHERS + " matchers");
                }
                Matcher m = new Matcher(type, value);
                try {
                    matchers.check(m);
                } catch (IllegalArgumentException e) {
                    throw new Rejection(400, name + ": " + e.getMessage());
                }
                out.add(m);
            }
        }
        if (out.isEmpty() && legacyTopics <= 0) {
            throw new Rejection(400, "a subscription needs at least one match= or match_urlpattern= parameter");
        }
        return List.copyOf(out);
    }

    private static String printable(String name) {
        String s = name.length() > 64 ? name.substring(0, 64) + "…" : name;
        return MercureText.firstForbidden(s) == null ? s : "(a name with control characters)";
    }
}
