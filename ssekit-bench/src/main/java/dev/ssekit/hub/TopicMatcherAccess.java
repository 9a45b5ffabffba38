package dev.ssekit.hub;

/**
 * The benchmarks' door to the hub's package-private {@link TopicMatcher} (the URI-template topic
 * selector matcher), so that {@code UrlPatternBenchmark} measures it beside the URL Pattern matcher
 * in the same run. Lives in the benchmark jar only, on the class path, in the hub's package.
 */
public final class TopicMatcherAccess {
    private final TopicMatcher matcher;

    private TopicMatcherAccess(TopicMatcher matcher) {
        this.matcher = matcher;
    }

    /**
     * Compiles a topic selector as the hub does.
     *
     * @param selector a URI template, an exact topic or {@code *}
     * @return the compiled selector
     */
    public static TopicMatcherAccess of(String selector) {
        return new TopicMatcherAccess(TopicMatcher.of(selector));
    }

    /**
     * Whether a topic matches, as the hub decides it.
     *
     * @param topic the topic
     * @return true if it matches
     */
    public boolean matches(String topic) {
        return matcher.matches(topic);
    }
}
