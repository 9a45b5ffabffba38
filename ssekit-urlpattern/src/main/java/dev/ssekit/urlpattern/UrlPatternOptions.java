package dev.ssekit.urlpattern;

/**
 * The standard's {@code URLPatternOptions}. An immutable value, safe to share between threads.
 *
 * @param ignoreCase whether the pathname, search and hash components match case-insensitively
 *     (the standard's {@code ignoreCase}; the other components are canonicalised instead)
 */
public record UrlPatternOptions(boolean ignoreCase) {
}
