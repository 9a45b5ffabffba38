package dev.ssekit.hub;

import dev.ssekit.TopicSelector;
import java.util.function.Consumer;

/**
 * The broadcaster's indexes over the hub's pattern selectors (issue #24): a publish tests only the
 * patterns that can match its topic, not each distinct pattern once. A URL pattern whose protocol
 * and hostname are fixed text is filed under {@link UrlKey} (protocol, hostname, and its literal
 * pathname prefix cut after its last {@code /}), and a topic, resolved against the hub URL as the
 * patterns test it, names the key of each {@code /}-boundary prefix of its pathname ({@link
 * MatcherStore}); a URI template is filed under its literal text before its first {@code {}, cut
 * after its last {@code /}, and a topic names each of its own {@code /}-boundary prefixes ({@link
 * #TEMPLATES}). Every other pattern (a wildcard or regexp protocol or hostname) stays unindexed and
 * is tested on every publish. Exact: a pattern matches a topic only if the topic has its literal
 * prefix ({@code UrlPattern#pathnamePrefix}, the template's text), so only if the topic names its
 * key (TopicPrefixesTest checks this over random patterns and topics). Stateless; thread-safe.
 */
final class TopicPrefixes {

    private TopicPrefixes() {
    }

    /**
     * Where a URL pattern is filed: the protocol and hostname every URL it matches has, and a
     * {@code /}-boundary prefix ({@code ""} or ending in {@code /}) of every pathname it matches.
     */
    record UrlKey(String protocol, String hostname, String path) {
    }

    /**
     * The index of URI templates (and of anything filed under a raw topic prefix): a topic names
     * {@code ""} and each of its prefixes that ends in {@code /}.
     */
    static final TopicSelector.Index TEMPLATES = TopicPrefixes::boundaries;

    /**
     * The most {@code /}-boundary prefixes a topic names, and the longest: a topic of 2,048 slashes costs
     * a publish 17 keys of at most {@value #MAX_KEY_LENGTH} characters, not 2,048 keys of up to 2,048.
     * A pattern's key is cut to the same bounds, so a topic still names it.
     */
    static final int MAX_BOUNDARIES = 16;
    /** See {@link #MAX_BOUNDARIES}. */
    static final int MAX_KEY_LENGTH = 1024;

    /**
     * Calls {@code action} with {@code ""} and each prefix of {@code s} that ends in one of its first
     * {@link #MAX_BOUNDARIES} {@code /} within its first {@link #MAX_KEY_LENGTH} characters.
     */
    static void boundaries(String s, Consumer<Object> action) {
        action.accept("");
        int n = 0;
        for (int i = s.indexOf('/'); i >= 0 && i < MAX_KEY_LENGTH && n < MAX_BOUNDARIES; i = s.indexOf('/', i + 1), n++) {
            action.accept(s.substring(0, i + 1));
        }
    }

    /**
     * The key of a literal prefix: the longest of its prefixes {@link #boundaries} names. Every string
     * that starts with the literal names it too (its first slashes are the literal's).
     */
    static String cut(String literal) {
        int end = 0;
        int n = 0;
        for (int i = literal.indexOf('/'); i >= 0 && i < MAX_KEY_LENGTH && n < MAX_BOUNDARIES; i = literal.indexOf('/', i + 1), n++) {
            end = i + 1;
        }
        return literal.substring(0, end);
    }

    /**
     * Whether a subscription's selector can match some topic that starts with {@code prefix} and
     * goes on with no dot segment, query or fragment, raw (exact matchers, templates) or resolved
     * against the hub URL (URL patterns). Conservative: true unless the selector's fixed parts rule
     * it out (an exact topic without the prefix; a template or URL pattern whose key is not on the
     * prefix's path; a URL pattern of another protocol or host); true for {@code *} and for every
     * unindexed pattern.
     *
     * @param selector the selector, as {@link MatcherStore} or {@link TopicSelectorStore} made it
     * @param prefix the start of the topics, relative to the hub URL or absolute
     */
    static boolean mayMatchUnder(TopicSelector selector, String prefix) {
        if (selector.equals(TopicSelector.all())) {
            return true;
        }
        if (selector.exactTopic().isPresent()) {
            return selector.exactTopic().get().startsWith(prefix);
        }
        Object key = selector.indexKey().orElse(null);
        TopicSelector.Index index = selector.index().orElse(null);
        if (index == TEMPLATES && key instanceof String k) {
            return k.startsWith(prefix) || prefix.startsWith(k);
        }
        if (key instanceof UrlKey k && index instanceof MatcherStore.UrlIndex urls) {
            // resolved against the hub URL of the store that made the pattern, as its topics are
            dev.ssekit.urlpattern.UrlPatternInput u = urls.resolve(prefix);
            // a topic that does not parse matches no URL pattern
            return u != null && k.protocol.equals(u.protocol()) && k.hostname.equals(u.hostname())
                    && (k.path.startsWith(u.pathname()) || u.pathname().startsWith(k.path));
        }
        return true;
    }
}
