package dev.ssekit.hub;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ssekit.TopicSelector;
import dev.ssekit.urlpattern.UrlPattern;
import dev.ssekit.urlpattern.UrlPatternInput;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Mercure 1.0 matchers as the hub meets them in subscriptions, in tokens' {@code
 * authorization_details} and in the subscriptions API, compiled once each and kept in a bounded
 * cache, as {@link TopicSelectorStore} does for 0.x selectors: ten thousand subscribers to one URL
 * pattern share one compiled pattern and one {@link TopicSelector}, so the broadcaster computes its
 * verdict once per publish (it keys verdicts by selector). {@code *} (any type) becomes {@link
 * TopicSelector#all()} and an {@code exact} matcher {@link TopicSelector#exact}: both go through
 * the broadcaster's index and cost a publish nothing per subscriber. URL patterns are compiled by
 * {@code ssekit-urlpattern} on RE2/J, relative to the hub URL, with {@code ignoreCase} off, and
 * tested in time linear in the topic; a relative topic is resolved against the hub URL, and a topic
 * that is not a URL never matches (draft-dunglas-mercure-08 L299-330). Compiling costs CPU, about 23 ms a
 * 4,096-byte pattern whatever its groups (MatcherWorstCaseTest): the hub compiles off its event loops, asking
 * {@link #cached} first (issue #28). A topic is parsed once per publish, not once per pattern: the hub URL
 * is parsed once here, and each thread keeps the last topic it parsed (the broadcaster decides one publish's
 * selectors in sequence on one thread), so 10,000 distinct patterns cost one parse of the topic (issue #24).
 * And a publish tests only the patterns that can match its topic: a pattern whose protocol and hostname are
 * fixed text is filed under them and its literal pathname prefix in the broadcaster's index ({@link UrlIndex},
 * {@link TopicPrefixes}); the others are tested on every publish.
 * Thread-safe.
 */
final class MatcherStore {

    /** The longest matcher value, in bytes of UTF-8 (the reference hub's cap). */
    static final int MAX_BYTES = 4096;

    /**
     * The hub URL a hub without a resource identifier resolves relative patterns and topics against:
     * a name that never resolves (RFC 6761), so a relative pattern matches relative topics and an
     * absolute pattern absolute ones, as in the reference hub.
     */
    static final String SYNTHETIC_HUB_URL = "https://mercure.invalid" + MercureProtocol.PATH;

    private record Compiled(UrlPattern pattern, TopicSelector selector) {
    }

    /** The last topic a thread parsed, and the result (null: not a URL, matches nothing). */
    private record ParsedTopic(String topic, UrlPatternInput input) {
    }

    private final String hubUrl;
    private final UrlPatternInput hubBase;
    /** One entry per thread, replaced by the next topic: bounded, never grows. */
    private final ThreadLocal<ParsedTopic> lastTopic = new ThreadLocal<>();
    private final Cache<Matcher, Compiled> cache;
    /** URL patterns compiled (or tried) so far: {@code /metrics} shows it (issue #24's review). */
    private final java.util.concurrent.atomic.LongAdder compiles = new java.util.concurrent.atomic.LongAdder();
    /** The broadcaster's index of this store's URL patterns (one per store: its topics resolve against its hub URL). */
    private final UrlIndex index = new UrlIndex();

    /**
     * The index of a store's URL patterns whose protocol and hostname are fixed text ({@link
     * TopicPrefixes}): a topic, resolved against the hub URL and parsed once per thread as the
     * patterns test it, names a {@link TopicPrefixes.UrlKey} for each {@code /}-boundary prefix of its
     * pathname; a topic that is not a URL names none (no URL pattern matches it). Thread-safe.
     */
    final class UrlIndex implements TopicSelector.Index {

        @Override
        public void keys(String topic, java.util.function.Consumer<Object> action) {
            UrlPatternInput input = parsed(topic);
            if (input != null) {
                String protocol = input.protocol();
                String hostname = input.hostname();
                TopicPrefixes.boundaries(input.pathname(), path -> action.accept(new TopicPrefixes.UrlKey(protocol, hostname,
                        (String) path)));
            }
        }

        /** The topic resolved against the store's hub URL, as its patterns test it; null if not a URL. */
        UrlPatternInput resolve(String topic) {
            return parsed(topic);
        }
    }

    /**
     * @param hubUrl the absolute URL relative patterns and topics are resolved against
     * @param capacity how many compiled matchers to keep (the least used go first)
     * @throws IllegalArgumentException if capacity is below 1 or the hub URL is not absolute
     */
    MatcherStore(String hubUrl, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        java.net.URI u = java.net.URI.create(Objects.requireNonNull(hubUrl, "hubUrl"));
        if (!u.isAbsolute()) {
            throw new IllegalArgumentException("the hub URL must be absolute: " + hubUrl);
        }
        this.hubUrl = hubUrl;
        this.hubBase = UrlPatternInput.parse(hubUrl).orElseThrow(
                () -> new IllegalArgumentException("the hub URL is not a URL: " + hubUrl));
        this.cache = Caffeine.newBuilder().maximumSize(capacity).build();
    }

    /** The URL relative patterns and topics are resolved against. */
    String hubUrl() {
        return hubUrl;
    }

    /**
     * The broadcaster selector for a matcher, compiled once.
     *
     * @throws IllegalArgumentException if the value is empty, over {@link #MAX_BYTES}, holds a
     *     control or format character, or is not a valid pattern of its type (the message says why)
     */
    TopicSelector selector(Matcher m) {
        return compiled(m).selector;
    }

    /** The selectors of several matchers, in order; see {@link #selector}. */
    List<TopicSelector> selectors(Collection<Matcher> matchers) {
        return matchers.stream().map(this::selector).toList();
    }

    /**
     * Checks a matcher as {@link #selector} does (and caches it).
     *
     * @throws IllegalArgumentException as {@link #selector}
     */
    void check(Matcher m) {
        compiled(m);
    }

    /**
     * Whether one of the matchers matches the topic. A matcher that does not compile matches
     * nothing (a token's matchers were checked when it was read).
     */
    boolean anyMatches(Collection<Matcher> matchers, String topic) {
        for (Matcher m : matchers) {
            if (matches(m, topic)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the matcher matches the topic; false for a matcher that does not compile. */
    boolean matches(Matcher m, String topic) {
        if (m.all()) {
            return true;
        }
        if (m.type().equals(Matcher.EXACT)) {
            return m.value().equals(topic);
        }
        try {
            return test(compiled(m).pattern, topic);
        } catch (IllegalArgumentException invalid) {
            return false;
        }
    }

    /**
     * Whether the matcher's selector is ready without compiling: {@code *}, an exact matcher, or a
     * URL pattern in the cache. Cheap: what a caller on an event loop asks before {@link #selector}.
     */
    boolean cached(Matcher m) {
        return m.all() || m.type().equals(Matcher.EXACT) || cache.getIfPresent(m) != null;
    }

    /** How many URL patterns were compiled so far (a pattern compiled again after eviction counts again). */
    long compiles() {
        return compiles.sum();
    }

    /** How many compiled matchers are cached now (for tests and metrics). */
    long size() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    private Compiled compiled(Matcher m) {
        if (m.value().isEmpty()) {
            throw new IllegalArgumentException("a " + m.type() + " matcher must not be empty");
        }
        int bytes = m.value().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("a matcher must be at most " + MAX_BYTES + " bytes of UTF-8, got " + bytes);
        }
        MercureText.check("a matcher", m.value());
        Compiled c = cache.getIfPresent(m);
        if (c == null) {
            c = compile(m); // outside the cache's lock: compiling may throw, which is not cached
            Compiled raced = cache.asMap().putIfAbsent(m, c);
            c = raced != null ? raced : c;
        }
        return c;
    }

    private Compiled compile(Matcher m) {
        if (m.all()) {
            return new Compiled(null, TopicSelector.all());
        }
        if (m.type().equals(Matcher.EXACT)) {
            return new Compiled(null, TopicSelector.exact(m.value()));
        }
        UrlPattern p;
        compiles.increment();
        try {
            p = UrlPattern.compile(m.value(), hubUrl); // ignoreCase stays off (L311)
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid URL pattern: " + e.getMessage(), e);
        }
        String name = Matcher.URLPATTERN + ":" + m.value();
        java.util.function.Predicate<String> rule = topic -> test(p, topic);
        if (p.fixedProtocol().isPresent() && p.fixedHostname().isPresent()) {
            // only a topic of this protocol and host, whose pathname starts with the literal prefix, can match
            return new Compiled(p, TopicSelector.of(name, rule, index, new TopicPrefixes.UrlKey(p.fixedProtocol().get(),
                    p.fixedHostname().get(), TopicPrefixes.cut(p.pathnamePrefix()))));
        }
        return new Compiled(p, TopicSelector.of(name, rule)); // a wildcard protocol or host: tested on every publish
    }

    private boolean test(UrlPattern p, String topic) {
        UrlPatternInput input = parsed(topic);
        try {
            return input != null && p.test(input); // a topic that is not a URL never matches (L325)
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The topic resolved against the hub URL, parsed once per thread while it stays the last one; null if not a URL. */
    private UrlPatternInput parsed(String topic) {
        ParsedTopic last = lastTopic.get();
        if (last != null && last.topic.equals(topic)) {
            return last.input;
        }
        UrlPatternInput input;
        try {
            input = hubBase.resolve(topic).orElse(null);
        } catch (RuntimeException e) {
            input = null; // a topic that is not a URL never matches (L325)
        }
        lastTopic.set(new ParsedTopic(topic, input));
        return input;
    }
}
