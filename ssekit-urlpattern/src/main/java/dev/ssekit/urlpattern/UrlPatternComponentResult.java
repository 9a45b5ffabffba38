package dev.ssekit.urlpattern;

import java.util.Map;

/**
 * The standard's {@code URLPatternComponentResult}: what one component of the input was, and what
 * each of its groups captured. Immutable.
 *
 * @param input the component of the input, canonicalised as the pattern saw it
 * @param groups each group's name (a numeric string for an unnamed group) to its capture, in the
 *     pattern's order; a group that did not take part in the match maps to {@code null}. The map is
 *     unmodifiable and permits null values.
 */
public record UrlPatternComponentResult(String input, Map<String, String> groups) {
}
