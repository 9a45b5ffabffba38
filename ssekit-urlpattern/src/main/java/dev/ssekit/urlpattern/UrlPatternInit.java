package dev.ssekit.urlpattern;

/**
 * The standard's {@code URLPatternInit} dictionary: a pattern, or an input to match, given per
 * component. A {@code null} component is "not given" (the dictionary member is absent), which is
 * not the same as the empty string: when compiling, a component not given becomes the wildcard
 * {@code *} or is taken from {@code baseURL}; when matching, it is the empty string or is taken from
 * {@code baseURL}. An immutable value, safe to share between threads.
 *
 * @param protocol the scheme, with or without its trailing {@code ':'}, or null
 * @param username the username, or null
 * @param password the password, or null
 * @param hostname the host, or null
 * @param port the port, or null
 * @param pathname the path, or null
 * @param search the query, with or without its leading {@code '?'}, or null
 * @param hash the fragment, with or without its leading {@code '#'}, or null
 * @param baseURL an absolute URL that supplies the components not given, or null
 */
public record UrlPatternInit(String protocol, String username, String password, String hostname, String port,
                             String pathname, String search, String hash, String baseURL) {
}
