package dev.ssekit.urlpattern;

import java.util.List;

/**
 * The standard's {@code URLPatternResult}: what {@link UrlPattern#exec(String)} returns on a match.
 * Immutable.
 *
 * @param inputs the arguments of the call: the input string (and the base URL string, when one was
 *     given) or the {@link UrlPatternInit}; unmodifiable
 * @param protocol the protocol component's result
 * @param username the username component's result
 * @param password the password component's result
 * @param hostname the hostname component's result
 * @param port the port component's result
 * @param pathname the pathname component's result
 * @param search the search component's result
 * @param hash the hash component's result
 */
public record UrlPatternResult(List<Object> inputs, UrlPatternComponentResult protocol,
                               UrlPatternComponentResult username, UrlPatternComponentResult password,
                               UrlPatternComponentResult hostname, UrlPatternComponentResult port,
                               UrlPatternComponentResult pathname, UrlPatternComponentResult search,
                               UrlPatternComponentResult hash) {
}
